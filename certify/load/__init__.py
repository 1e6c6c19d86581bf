"""Load profiles: locust runs per cell and profile, SLO verdicts, and figures around a fault.

certify never imports locust: each run is a subprocess in the cell's runtime.
"""

from certify.load.stats import FaultWindow, WindowFigures, windows

__all__ = ["FaultWindow", "WindowFigures", "windows"]
