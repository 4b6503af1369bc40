#!/usr/bin/env python3
"""Checks that every op can be found by its name alone (STYLE.md, "Naming").

  python3 scripts/check_ops.py           checks; prints each problem and exits 1 if there is one
  python3 scripts/check_ops.py --index   prints every op function with its header, source and test

The rules, for the files in ops/:
  1. an op header ops/<name>.hpp (a header that declares a function returning Tensor) has its
     source ops/<name>.cpp and its test tests/ops/test_<name>.cpp;
  2. each ops/<name>_kernel.cpp opens with a comment holding its formula: a line of the opening
     comment with an equation ("out[i] = f(x[i])", "C = alpha · op(A) · op(B) + beta · C");
  3. each kernel file has its header ops/<name>_kernel.hpp and belongs to an op ops/<name>.cpp.
Headers that declare no Tensor function (kernel declarations, helpers shared by kernel files such
as simd_row.hpp) are not ops: rule 1 skips them. meson test runs this script (tests/meson.build).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# `Tensor name(` at the start of a declaration, possibly after `inline`: an op function.
OP_FUNCTION = re.compile(r"^\s*(?:inline\s+)?Tensor\s+(?:operator\S+|(\w+))\s*\(", re.MULTILINE)
# An equation in a comment: something, " = ", something (not "==", "<=", ">=", "!=").
EQUATION = re.compile(r"\S\s*(?<![=<>!])=(?!=)\s*\S")


def op_functions(header):
    """The names of the op functions a header declares, in order, each once."""
    names = []
    for match in OP_FUNCTION.finditer(header.read_text()):
        if match.group(1) and match.group(1) not in names:
            names.append(match.group(1))
    return names


def opening_comment(path):
    """The lines of the comment a file opens with."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("//"):
            break
        lines.append(line)
    return lines


def problems():
    found = []
    ops = ROOT / "ops"
    for header in sorted(ops.glob("*.hpp")):
        if header.stem.endswith("_kernel") or not op_functions(header):
            continue
        for needed in (ops / f"{header.stem}.cpp", ROOT / "tests" / "ops" / f"test_{header.stem}.cpp"):
            if not needed.exists():
                found.append(f"{header.relative_to(ROOT)} declares ops, but {needed.relative_to(ROOT)} is missing")
    for kernel in sorted(ops.glob("*_kernel.cpp")):
        name = kernel.stem[: -len("_kernel")]
        comment = opening_comment(kernel)
        if not comment:
            found.append(f"{kernel.relative_to(ROOT)} does not open with a comment")
        elif not any(EQUATION.search(line[2:]) for line in comment):
            found.append(f"{kernel.relative_to(ROOT)}: its opening comment has no formula (a line with ' = ')")
        for needed in (ops / f"{kernel.stem}.hpp", ops / f"{name}.cpp"):
            if not needed.exists():
                found.append(f"{kernel.relative_to(ROOT)} has no {needed.relative_to(ROOT)}")
    return found


def index():
    """op  ->  header, source, test: one line per op function."""
    rows = []
    for header in sorted((ROOT / "ops").glob("*.hpp")):
        if header.stem.endswith("_kernel"):
            continue
        for name in op_functions(header):
            rows.append((name, f"ops/{header.stem}.hpp", f"ops/{header.stem}.cpp", f"tests/ops/test_{header.stem}.cpp"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{r[0]:<{width}}  {r[1]:<22} {r[2]:<22} {r[3]}" for r in sorted(rows))


def main():
    if "--index" in sys.argv[1:]:
        print(index())
        return 0
    found = problems()
    for problem in found:
        print(problem)
    if not found:
        print("every op header has its source and test, and every kernel file opens with its formula")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
