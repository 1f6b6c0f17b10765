"""What is particular to an exchange, one folder each: `tse/` is the Tokyo Stock Exchange (its
code rules, sectors and segments, calendar, fund underlyings, listing file and price sources).
A second exchange would be a new folder beside it."""
