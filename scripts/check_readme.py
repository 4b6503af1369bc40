#!/usr/bin/env python3
"""check_readme.py: README.md's usage example is the code examples/readme_example.cpp runs.

The first ```cpp block of the README's "## Using it" section must equal the lines between
"// README begin" and "// README end" of examples/readme_example.cpp (dedented), which meson
builds and runs as the test readme_example: so the README never shows code that does not build.

    python3 scripts/check_readme.py        # exit 0 when they agree, else 1 and a diff
"""
import difflib
import os
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_block(text):
    """The first ```cpp block after the '## Using it' heading."""
    section = text.split("\n## Using it\n", 1)
    if len(section) != 2:
        sys.exit("check_readme: README.md has no '## Using it' section")
    start = section[1].find("```cpp\n")
    if start < 0:
        sys.exit("check_readme: README.md's 'Using it' section has no ```cpp block")
    body = section[1][start + len("```cpp\n"):]
    return body[:body.index("```")]


def example_block(text):
    """The lines between the README markers of readme_example.cpp, dedented."""
    begin, end = text.index("// README begin\n"), text.index("// README end")
    lines = text[begin + len("// README begin\n"):end]
    return textwrap.dedent(lines.rsplit("\n", 1)[0] + "\n")


def main():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = readme_block(f.read())
    with open(os.path.join(ROOT, "examples", "readme_example.cpp"), encoding="utf-8") as f:
        example = example_block(f.read())
    # the README may add the #include line and nothing else before the code
    code = "\n".join(line for line in readme.splitlines() if not line.startswith("#include")).strip() + "\n"
    if code == example.strip() + "\n":
        print("README.md's usage example matches examples/readme_example.cpp")
        return 0
    sys.stdout.writelines(difflib.unified_diff(example.strip().splitlines(True), code.splitlines(True),
                                               "examples/readme_example.cpp", "README.md"))
    print("\ncheck_readme: README.md's usage example differs from examples/readme_example.cpp")
    return 1


if __name__ == "__main__":
    sys.exit(main())
