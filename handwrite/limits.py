"""Limits shared by the library and the command line. Imports nothing, so the CLI
can bound its flags (at `--help` too) without loading torch or numpy."""

# A beam of 10^6 took over 3 GB for no measurable gain; 8 is what the app and the LMs use.
MAX_BEAM = 64
