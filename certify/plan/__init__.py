"""Plans: a profile applied to a matrix, giving the cells to certify and what to run on each."""

from certify.plan.planner import CoverageGroup, Plan, PlannedCell, build_plan, find_profile

__all__ = ["CoverageGroup", "Plan", "PlannedCell", "build_plan", "find_profile"]
