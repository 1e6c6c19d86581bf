"""The README opens with the two commands, and CI runs exactly the second one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_run_and_test_commands() -> None:
    blocks = _blocks()
    assert len(blocks) >= 2
    assert "certify run --profile smoke" in blocks[0]
    assert "pytest" in blocks[1]
    head = (ROOT / "README.md").read_text().split("```bash")[0]
    assert head.strip() == "# certify", "nothing may come before the two commands but the title"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _blocks()[1] in ci
