"""Text as one line: what a correction or a sample label may hold."""

import handwrite
from handwrite.printable import control_character


def test_plain_line_keeps_what_a_person_types_and_drops_what_a_terminal_pastes():
    assert handwrite.plain_line("Caf\u00e9 \u2014 10:30\tand\r\nmore") == "Caf\u00e9 \u2014 10:30 and  more"
    assert handwrite.plain_line("a\x1b[2Jb\x07c\x7f\x85d\ud800") == "a[2Jbcd"
    assert control_character(handwrite.plain_line("".join(map(chr, range(0x100))))) is None
