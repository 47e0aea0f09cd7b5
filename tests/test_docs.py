"""The documentation stays true: the configuration reference is what the code says, the README keeps
its two commands, the terminal samples are what the bot prints, and every link between the pages
reaches a page and a heading that exist."""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.config_reference import COMMAND, reference
from bot.sandbox.guide import STEPS
from bot.terminal import cli
from tests.conftest import EXAMPLE_CONFIG, PASSWORD
from tests.support import samples
from tests.support.clock import Clock

REPO = Path(__file__).resolve().parents[1]
WRITE_SAMPLES = "CONSDB_BOT_WRITE_SAMPLES"
"""Set to 1, the sample test rewrites each sample that differs with what the bot printed, instead of failing."""
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def prose(page: Path) -> list[str]:
    """The page's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of the page's headings."""
    seen: dict[str, int] = {}
    for line in prose(page):
        if match := re.match(r"#{1,6} (.*)", line):
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            if count:
                seen[f"{slug}-{count}"] = 1
    return set(seen)


def test_the_configuration_reference_is_what_the_models_say():
    committed = (REPO / "docs" / "configuration.md").read_text()
    assert committed == reference(), f"docs/configuration.md is out of date with bot/config.py: run `{COMMAND}`"


def test_every_key_of_the_example_configuration_is_in_the_reference():

    example = yaml.safe_load((REPO / "deploy" / "consdb-bot.example.yaml").read_text())
    text = (REPO / "docs" / "configuration.md").read_text()
    sections = {"": example, **{key: value for key, value in example.items() if isinstance(value, dict)}}
    sections.pop("environments")
    for environment in example["environments"].values():
        sections["environments.NAME"] = {**sections.get("environments.NAME", {}), **environment}
    for section, keys in sections.items():
        for key in keys:
            assert f"| `{key}` |" in text, f"{section}.{key} is not in docs/configuration.md"


def test_the_readme_keeps_its_two_commands_for_a_fresh_machine():
    text = README.read_text()
    assert (
        "python3 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements.lock \\\n"
        "  && .venv/bin/pip install --no-deps -e . && .venv/bin/consdb-bot sandbox\n"
    ) in text
    assert "```sh\nbash .ci/run\n```" in text
    assert (REPO / ".ci" / "run").is_file()


def test_the_readme_is_a_front_page_that_leads_to_each_page_of_docs():
    links = {target.split("#")[0] for line in prose(README) for target in LINK.findall(line)}
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in links, f"the README does not link to docs/{page.name}"
    lines = len(README.read_text().splitlines())
    assert lines <= 200, f"the README has {lines} lines; move detail into docs/ and link to it"


def test_every_link_between_the_pages_reaches_a_page_and_a_heading_that_exist():
    broken = []
    for page in PAGES:
        for line in prose(page):
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target):
                    continue  # another site
                path, _, anchor = target.partition("#")
                reached = (page.parent / path).resolve() if path else page
                if not reached.exists():
                    broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
                elif anchor and reached.suffix == ".md" and anchor not in anchors(reached):
                    broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def printed(sample: samples.Sample) -> str:
    """What the sample's command prints to a terminal: stdout and stderr, in the order written."""
    terminal = io.StringIO()
    cli.run(list(sample.args), out=terminal, err=terminal)
    assert PASSWORD not in terminal.getvalue(), f"the password leaked into the output of {sample.command}"
    return samples.as_a_reader_sees_it(terminal.getvalue(), REPO)


def test_the_samples_show_what_the_bot_prints(
    tmp_path: Path, new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page's samples run in order, as the user guide's tour does them: in an empty folder with the
    example configuration copied in, bts's URL set to an empty database and no other environment's."""
    checked = 0
    for page in PAGES:
        found = samples.samples(page.read_text())
        checked += len(found)
        if not found:
            continue
        folder = tmp_path / page.stem
        folder.mkdir()
        example = EXAMPLE_CONFIG.read_text()
        for name in {*re.findall(r"\$\{(\w+)", example), "CONSDB_BOT_CONFIG", "JIRA_TOKEN"}:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("BTS_DATABASE_URL", new_database())
        (folder / "consdb-bot.yaml").write_text(example)
        monkeypatch.chdir(folder)
        monkeypatch.setattr(cli, "now", Clock())
        outputs = {sample: printed(sample) for sample in found}
        wrong = {
            sample: output
            for sample, output in outputs.items()
            if samples.alike(sample.shown) != samples.alike(sample.expected(output))
        }
        if os.environ.get(WRITE_SAMPLES) == "1":
            page.write_text(samples.rewritten(page.read_text(), wrong))
            continue
        differences = [
            "\n".join(
                difflib.unified_diff(sample.shown, sample.expected(output), sample.command, "printed", lineterm="")
            )
            for sample, output in wrong.items()
        ]
        assert not differences, (
            f"{page.relative_to(REPO)} shows output the bot does not print (rewrite it with {WRITE_SAMPLES}=1):\n"
            + "\n".join(differences)
        )
    assert checked, "no page has a sample: the tour's samples are not found (see tests/support/samples.py)"


def guided_run() -> list[list[str]]:
    """The code spans of each numbered step of the README's guided first run, whitespace made single."""
    text = README.read_text().split("A guided first run", 1)[1].split("\n\n", 2)[1]
    steps = re.split(r"^\d+\. ", text, flags=re.MULTILINE)[1:]
    return [[" ".join(span.split()) for span in re.findall(r"`([^`]+)`", step)] for step in steps]


def meant(span: str, commands: tuple[str, ...]) -> set[str]:
    """The commands a code span of the README names: the whole command, or a bare word standing for its last
    (`po-approval` after `/consdb done OSW-123 de-approval`)."""
    return {command for command in commands if span in (command, command.rsplit(" ", 1)[-1])}


def test_the_sandbox_pages_welcome_guides_through_the_readmes_guided_run():
    """The page's welcome (bot/sandbox/guide.py) and the README name the same commands, step by step."""
    readme = guided_run()
    assert len(readme) == len(STEPS), f"the README's guided run has {len(readme)} steps, the page's {len(STEPS)}"
    for number, (spans, step) in enumerate(zip(readme, STEPS, strict=True), start=1):
        differ = f"step {number}: the README names {spans}, the page {list(step.commands)}"
        assert all(meant(span, step.commands) for span in spans), differ
        assert set().union(*(meant(span, step.commands) for span in spans)) == set(step.commands), differ
