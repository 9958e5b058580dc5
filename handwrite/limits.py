"""Limits and defaults shared by the library and the command line. Imports nothing,
so the CLI can bound and describe its flags (at `--help` too) without loading torch
or numpy."""

# A beam of 10^6 took over 3 GB for no measurable gain.
MAX_BEAM = 64
# The beam a language model decodes with unless one is asked for. On all of IAM-OnDB
# testset_v (online model, LM and lexicon): beam 8 5.71% CER / 18.55% WER, 16 5.62% /
# 18.32%, 24 5.60% / 18.31%; a line takes 1.22x beam 8's time at 16. The drawing app
# keeps 8: it reads as you write.
LM_BEAM = 16
