#!/usr/bin/env python3
"""embed_text.py INPUT OUTPUT NAME

Writes a C++ source that defines `textclf::NAME`, a std::string_view of INPUT's text, so the
program carries the file inside it. The text goes into a raw string literal, where nothing is
escaped: the generated file reads like the original.
"""
import os
import sys

source, output, name = sys.argv[1:4]
with open(source, encoding="utf-8") as f:  # not UTF-8: fail the build here, loudly
    text = f.read()
delimiter = "tsv"
if ")" + delimiter + '"' in text:
    sys.exit(f"{source}: contains ){delimiter}\" which would end the raw string")
with open(output, "w", encoding="utf-8") as out:
    out.write(f"// Generated from {os.path.basename(source)} by embed_text.py at build time: edit that file.\n")
    out.write("#include <string_view>\n\n")
    out.write("namespace textclf {\n\n")
    out.write(f"extern const std::string_view {name};\n")
    out.write(f'const std::string_view {name} = R"{delimiter}({text}){delimiter}";\n\n')
    out.write("}  // namespace textclf\n")
