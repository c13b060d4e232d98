"""The README and docs/*.md: the README's Python example runs as written (with its file names pointed at real
data); the README starts with the set-up commands and stays short; every relative link resolves (files and
#anchors); every command they name exists (poseit subcommands and their options, make targets, scripts and
their options)."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]
README_MAX_LINES = 300
SETUP_BLOCK = """```bash
make run    # set up .venv, pull the models, start the live coaching web app: open http://127.0.0.1:8000/
make test   # set up .venv with the dev extras, pull the models, run the whole test suite
```"""

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$", re.M)
# wrappers whose own arguments come before the command they run: name -> how many arguments they take
WRAPPERS = {"nohup": 0, "nice": 2, "flock": 1, "timeout": 1, "env": 0}
SEPARATORS = re.compile(r"\s(?:&&|\|\||;|\|)\s")
PYTHONS = {"python", "python3", ".venv/bin/python", ".venv-mediapipe/bin/python", "$(BIN)/python"}
POSEITS = {"poseit", ".venv/bin/poseit", "$(BIN)/poseit"}


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {heading}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_python_api_example_runs(data_dir, blazepose_models, capsys):
    code = readme_block("Python API")
    clip = data_dir / "exercise-videos" / "hxlinh+Fitness_Pose_Correction_Application" / "plank_3.mp4"  # 77 frames
    code = code.replace('"person.jpg"', repr(str(data_dir / "lsp" / "images" / "im1001.jpg")))
    code = code.replace('"workout.mp4"', repr(str(clip)))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("left knee at")
    assert len(out) == 1 + 77 and out[-1].split()[0] == "76"


def test_readme_starts_with_the_setup_commands():
    text = (ROOT / "README.md").read_text()
    title, rest = text.split("\n", 1)
    assert title.startswith("# "), "the README opens with its title"
    assert rest.lstrip("\n").startswith(SETUP_BLOCK + "\n"), "then the make run / make test block, unchanged"


def test_readme_is_short():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n <= README_MAX_LINES, f"README.md has {n} lines (at most {README_MAX_LINES}): move detail to docs/"


# ---- links ------------------------------------------------------------------------------------------------


def prose(text: str) -> str:
    """The text without fenced blocks and inline code (links and headings live outside them)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but '-' and '_' dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def test_slug_follows_github():
    assert slug("Hourglass students: LSP test and MPII frames") == "hourglass-students-lsp-test-and-mpii-frames"
    assert slug("`auto`, `any` and the periodicity check") == "auto-any-and-the-periodicity-check"
    assert slug("Rep counting") == "rep-counting"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_relative_links_resolve(page: Path):
    bad = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif not dest.is_relative_to(ROOT):
            bad.append(f"{target}: outside the repository")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            bad.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)


def test_readme_links_every_docs_page():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(prose((ROOT / "README.md").read_text()))}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"README.md does not link docs/{', docs/'.join(missing)}"


# ---- commands ---------------------------------------------------------------------------------------------


def commands(text: str) -> list[str]:
    """Shell commands: every line of a ```bash block (continuations joined) and every inline code span that
    starts like a command; split at &&, ||, ; and pipes."""
    found = []
    for lang, body in FENCE.findall(text):
        if lang in ("bash", "sh", "shell", "console"):
            found += [line for line in body.replace("\\\n", " ").splitlines() if line.strip()]
    for span in INLINE_CODE.findall(FENCE.sub("", text)):
        found.append(" ".join(span.split()))
    out = []
    for line in found:
        line = re.sub(r"(^|\s)#.*$", "", line)  # a trailing comment
        line = re.sub(r"\$\([^)]*\)", "X", line)  # $(openssl rand -hex 16)
        out += [part.strip() for part in SEPARATORS.split(line) if part.strip()]
    return out


def tokens_of(command: str) -> list[str]:
    try:
        tokens = shlex.split(command)
    except ValueError:
        tokens = command.split()
    for i, tok in enumerate(tokens):  # redirections and background end the command
        if tok in (">", ">>", "&", "2>&1") or tok.startswith((">", "2>")):
            tokens = tokens[:i]
            break
    while tokens and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):  # VAR=value prefixes
        tokens = tokens[1:]
    while tokens and tokens[0] in WRAPPERS:
        tokens = tokens[1 + WRAPPERS[tokens[0]] :]
    return tokens


def flags(tokens: list[str]) -> list[str]:
    """The long options named: `--x`, `--x=1`, `[--x`."""
    return [t.strip("[]").split("=")[0] for t in tokens if t.strip("[]").startswith("--")]


def poseit_parsers():
    from poseit.cli import build_parser

    def subparsers(parser):
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                return action.choices
        return {}

    return build_parser(), subparsers


def check_poseit(tokens: list[str]) -> str | None:
    parser, subparsers = poseit_parsers()
    words = [t for t in tokens[1:] if not t.startswith("-")]
    if not words or words[0] in ("...", "COMMAND"):
        return None
    choices = subparsers(parser)
    if words[0] not in choices:
        return f"no subcommand {words[0]!r}"
    sub = choices[words[0]]
    if subparsers(sub):
        if len(words) < 2 or words[1] not in subparsers(sub):
            return f"no subcommand {' '.join(words[:2])!r}"
        sub = subparsers(sub)[words[1]]
    unknown = [f for f in flags(tokens) if f not in sub._option_string_actions]
    return f"unknown options {unknown}" if unknown else None


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", (ROOT / "Makefile").read_text(), re.M))


def script_text(path: Path) -> str:
    """The script and the sibling modules it imports (shared argument helpers)."""
    text = path.read_text()
    for name in re.findall(r"^(?:from|import) (\w+)", text, re.M):
        sibling = path.parent / f"{name}.py"
        if sibling.is_file():
            text += sibling.read_text()
    return text


def check_script(path_token: str, tokens: list[str]) -> str | None:
    path = ROOT / path_token
    if not path.is_file():
        return f"no script {path_token}"
    text = script_text(path)
    named = flags(tokens)
    for i, flag in enumerate(named):  # an option that takes the rest of the line (argparse.REMAINDER)
        if re.search(rf"\"{re.escape(flag)}\"[^\n]*REMAINDER", text):
            named = named[: i + 1]
            break
    unknown = [f for f in named if not re.search(rf"[\"']{re.escape(f)}[\"']", text)]
    return f"{path_token} has no options {unknown}" if unknown else None


def check_command(command: str) -> str | None:
    tokens = tokens_of(command)
    if not tokens:
        return None
    head = tokens[0]
    if head in POSEITS:
        return check_poseit(tokens)
    if head == "make":
        targets = [t for t in tokens[1:] if "=" not in t and not t.startswith("-")]
        unknown = [t for t in targets if t not in make_targets()]
        return f"no make target {unknown}" if unknown else None
    if head in PYTHONS and len(tokens) > 1:
        if tokens[1] == "-m":
            module = tokens[2] if len(tokens) > 2 else ""
            if module.startswith("poseit"):
                rel = Path("src", *module.split("."))
                if not ((ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()):
                    return f"no module {module}"
            return None
        if tokens[1].endswith(".py"):
            return check_script(tokens[1], tokens[2:])
        return None
    if re.match(r"(benchmarks|train|tests|\.ci)/\S+\.(py|sh)$|\.ci/run$", head):
        return check_script(head, tokens[1:])
    return None


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_commands_exist(page: Path):
    cmds = commands(page.read_text())
    bad = [f"`{c}`: {why}" for c in cmds if (why := check_command(c))]
    assert not bad, f"{page.relative_to(ROOT)}:\n" + "\n".join(bad)


def test_command_checks_catch_mistakes():
    assert check_command("poseit serve --port 8080") is None
    assert check_command("poseit models pull --from FILE") is None
    assert check_command("poseit srve") is not None
    assert check_command("poseit run clip.mp4 --no-such-option") is not None
    assert check_command("make no-such-target") is not None
    assert check_command("POSEIT_X=1 nice -n 19 python benchmarks/no_such_script.py") is not None
    assert check_command("python benchmarks/bench_serve.py --no-such-option") is not None
    assert commands("run `poseit srve` here") == ["poseit srve"]
