#!/usr/bin/env python3
"""Lists the public declarations in headers that have no `///` doc line (STYLE.md, "Comments").

  python3 scripts/check_doc_comments.py [dir-or-header ...]    default: core ops nn optim

Prints `file:line: declaration` for each undocumented one and exits 1 if there is any.

A declaration is documented by a `///` line above it (plain `//` lines such as a NOTE may come
in between) or a trailing `///<`. Counted as declarations: functions, types, aliases, constants
and data members at namespace scope or in the public part of a class. Not counted: anything in
an anonymous or `detail` namespace or in a private/protected part, function bodies, enumerators,
special members (constructors declared `= default` / `= delete`, destructors, copy and move
operations), forward declarations (`class Node;`), `friend` lines, overrides (documented where
the virtual is declared), a kernel functor's `operator()(Arch, ...)` (its struct's line states
the contract, see core/simd.hpp), the members of a `fmt::formatter` specialization (fmt's
interface), and the second and later overloads of a documented function when
they follow it directly (an overload set is one declaration with one doc line).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

SPECIAL = re.compile(r"^(?:explicit\s+)?~?(\w+)\s*\((?:const\s+\1\s*&|\1\s*&&)?\s*\)|operator=\s*\(|=\s*(?:default|delete)\s*;")
NAME = re.compile(r"(\w+|operator\s*\S+?)\s*\(")


def code_part(line):
    """The line without a trailing // comment (string literals here hold no //)."""
    at = line.find("//")
    return line if at < 0 else line[:at]


def declared_name(statement):
    """A function's name, or the name a type/alias/variable statement declares."""
    head = statement.split("{")[0]
    match = NAME.search(head) if "(" in head else None
    if match:
        return match.group(1)
    words = re.findall(r"\w+", head.split("=")[0])
    return words[-1] if words else head


def check(path):
    found = []
    lines = path.read_text().splitlines()
    # one entry per open brace: ("namespace", public?), ("class", access), ("body", None), ("enum", None)
    scopes = []
    pending_doc = False
    previous_name = None  # the last documented function, for overload sets
    statement, start = "", 0
    doc_at_if = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        i += 1
        if not statement:
            # alternatives of one #if share the doc line above the #if
            if re.match(r"#\s*if", stripped):
                doc_at_if = pending_doc
            elif re.match(r"#\s*(elif|else)", stripped):
                pending_doc = doc_at_if
            if stripped.startswith("///"):
                pending_doc = True
                continue
            if stripped.startswith("//") or stripped.startswith("#"):
                continue
            if not stripped:
                pending_doc = False
                previous_name = None
                continue
        code = code_part(raw).strip()
        trailing_doc = "///<" in raw
        if not code:
            continue
        in_body = any(kind in ("body", "enum") for kind, _ in scopes)
        # access specifiers
        if not in_body and re.fullmatch(r"(public|private|protected):", code):
            if scopes and scopes[-1][0] == "class":
                scopes[-1] = ("class", code[:-1])
            continue
        # accumulate a statement until it ends with ; { or } (templates continue onto the next line)
        statement = (statement + " " + code).strip()
        if not statement.startswith(("template", "}")) or statement.startswith("template"):
            if not start:
                start = i
        if re.fullmatch(r"template\s*<.*>", statement) or not re.search(r"[;{}]$", statement):
            continue
        text, line_no = statement, start
        statement, start = "", 0
        opens, closes = text.count("{"), text.count("}")

        in_formatter = any(kind == "class" and public == "formatter" for kind, public in scopes)
        visible = not in_body and not in_formatter and all(
            (kind == "namespace" and public) or (kind == "class" and public == "public") for kind, public in scopes)
        is_namespace = re.match(r"(inline\s+)?namespace\b", text)
        if visible and not is_namespace and not text.startswith("}") and not text.startswith(("friend", "using namespace")):
            is_special = SPECIAL.search(re.sub(r"^template\s*<[^>]*>\s*", "", text)) is not None
            name = declared_name(text)
            documented = pending_doc or trailing_doc or (name == previous_name and "(" in text)
            exempt = (is_special or re.fullmatch(r"extern\s+template.*", text)
                      or re.fullmatch(r"(class|struct)\s+\w+\s*;", text)
                      or re.search(r"\boverride\b", text.split("{")[0])
                      or re.search(r"operator\(\)\s*\(\s*Arch\b", text))
            if not exempt:
                if not documented:
                    found.append(f"{path.relative_to(ROOT)}:{line_no}: {text[:100]}")
                previous_name = name if "(" in text else None
        pending_doc = False

        # scopes opened and closed by this statement
        if opens > closes:
            if is_namespace:
                anonymous = re.match(r"namespace\s*\{", text) or "detail" in text
                scopes.append(("namespace", not anonymous))
            elif re.search(r"\benum\b", text):
                scopes.append(("enum", None))
            elif re.match(r"template\s*<\s*>\s*struct\s+fmt::formatter", text):
                scopes.append(("class", "formatter"))
            elif re.match(r"(template\s*<[^>]*>\s*)?(class|struct|union)\b", text) and "(" not in text.split("{")[0]:
                scopes.append(("class", "private" if re.search(r"\bclass\b", text.split("{")[0]) else "public"))
            else:
                scopes.append(("body", None))
            depth = opens - closes - 1
            # a body that opens more braces on the same line (rare): count them as bodies
            scopes.extend([("body", None)] * depth)
        elif closes > opens:
            for _ in range(closes - opens):
                if scopes:
                    scopes.pop()
    return found


def headers(args):
    targets = args or ["core", "ops", "nn", "optim"]
    for target in targets:
        path = (ROOT / target).resolve()
        yield from sorted(path.glob("*.hpp")) if path.is_dir() else [path]


def main():
    found = [problem for header in headers(sys.argv[1:]) for problem in check(header)]
    for problem in found:
        print(problem)
    print(f"{len(found)} public declaration(s) without a /// line", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
