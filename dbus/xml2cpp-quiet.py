#!/usr/bin/env python3
"""Run sdbus-c++-xml2cpp, hiding only its complaint about org.gtk.GDBus.DocString.

The XML documents every member with DocString annotations (the contract is also
the documentation); xml2cpp 1.2.0 does not know them and prints one warning per
member on every build, which would drown real warnings. Everything else it prints,
and its exit status, pass through unchanged.

Usage: xml2cpp-quiet.py XML2CPP [ARGS...]
"""
import subprocess
import sys

proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
for line in proc.stderr.splitlines():
    if "Option 'org.gtk.GDBus.DocString' not allowed" not in line:
        print(line, file=sys.stderr)
# "Generating ... code for interface ..." on stdout is progress chatter; keep quiet.
sys.exit(proc.returncode)
