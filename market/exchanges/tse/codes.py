"""The exchange's code rules: four characters, digits with a letter allowed in the 2nd and 4th
place since 2024 (130A); a fifth digit marks a preferred share (25935)."""

import re

CODE_PATTERN = r"^[0-9][0-9A-Z][0-9][0-9A-Z][0-9]?$"
CODE_RE = re.compile(CODE_PATTERN)
