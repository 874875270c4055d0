#!/usr/bin/env python3
"""Every link between the project's Markdown files leads somewhere, and every README section the code
names exists.

  links_check.py ROOT FILE.md ... [--quoted SOURCE ...]

A relative link must name a file or directory under ROOT; a link with '#anchor' (or a bare '#anchor')
must name a heading of its target, slugged as GitHub does. With --quoted, each SOURCE's mentions of
`the README's "Name"` must name a heading or a bold lead-in ("**Name.**") of README.md. Prints each broken
link as FILE:LINE and exits 1 if there is one.
"""
import functools
import os
import re
import sys

LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
QUOTED = re.compile(r"README's \\?\"([^\"\\]+)\\?\"")
BOLD = re.compile(r"\*\*([^*]+?)\.?\*\*")


def unquote(text):
    return re.sub(r"`([^`]*)`", r"\1", text)


def slug(heading):
    return re.sub(r"[^\w\- ]", "", unquote(heading).strip().lower()).replace(" ", "-")


def prose(path):
    """(line number, line) of the lines outside fenced code blocks."""
    fenced = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                fenced = not fenced
            elif not fenced:
                yield number, line


@functools.lru_cache(maxsize=None)
def headings(path):
    anchors, titles, seen = set(), set(), {}
    for _, line in prose(path):
        m = HEADING.match(line)
        if not m:
            continue
        titles.add(unquote(m.group(2)))
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        anchors.add(base if n == 0 else f"{base}-{n}")
    return frozenset(anchors), frozenset(titles)


def check_links(root, md, errors):
    for number, line in prose(md):
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            where = f"{os.path.relpath(md, root)}:{number}: {target}"
            if not os.path.exists(full):
                errors.append(f"{where}: no such file")
            elif anchor and (not full.endswith(".md") or anchor not in headings(full)[0]):
                errors.append(f"{where}: no heading with that anchor")


def check_quoted(root, sources, errors):
    readme = os.path.join(root, "README.md")
    with open(readme, encoding="utf-8") as f:
        titles = headings(readme)[1] | {b.strip() for b in BOLD.findall(f.read())}
    for source in sources:
        with open(source, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for name in QUOTED.findall(line):
                    if not any(t.startswith(name) for t in titles):
                        errors.append(f"{os.path.relpath(source, root)}:{number}: the README has no section \"{name}\"")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, rest = argv[1], argv[2:]
    mds, sources = (rest[: rest.index("--quoted")], rest[rest.index("--quoted") + 1 :]) if "--quoted" in rest else (rest, [])
    errors = []
    for md in mds:
        check_links(root, os.path.join(root, md), errors)
    check_quoted(root, [os.path.join(root, s) for s in sources], errors)
    for e in errors:
        print(e)
    print(f"{len(mds)} Markdown files, {len(sources)} sources: {len(errors)} broken", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
