from PIL import Image

from handwrite.codec import PRINTABLE_ASCII, Codec
from handwrite.imaging import ImageSettings
from handwrite.ink import Ink
from handwrite.inputs import item_text
from handwrite.training.inputs import TrainingImageInputs


def test_a_transcription_is_taught_with_its_spacing_normalised():
    ink = Ink([[(0, 0), (10, 10)]], text="Mr . Foot ,  too")
    image = Image.new("L", (40, 20), 255)
    image.info["text"] = "yes , sir ."
    assert item_text(ink) == "Mr. Foot, too"
    assert item_text(image) == "yes, sir."
    codec = Codec(PRINTABLE_ASCII)
    sample = TrainingImageInputs(ImageSettings()).sample(image, item_text(image), codec)
    assert codec.decode(sample.labels) == "yes, sir."
