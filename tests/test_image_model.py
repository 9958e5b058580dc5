"""Image models through the public API, the CLI and fine-tuning (an untrained
tiny model: these test the plumbing; accuracy is tested with the bundled model)."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import handwrite
from handwrite.cli import main
from handwrite.model import ImageFront, ModelConfig, RecognizerNet
from tests.conftest import SAMPLE_INK


def test_an_image_line_gives_the_same_output_alone_and_padded_in_a_batch():
    torch.manual_seed(0)
    net = RecognizerNet(ModelConfig(32, 10, hidden=8, layers=1, conv_channels=8, front="image")).eval()
    short, long = torch.rand(1, 45, 32), torch.rand(1, 120, 32)
    alone, _ = net(short, torch.tensor([45]))
    batch = torch.zeros(2, 120, 32)
    batch[0, :45], batch[1] = short[0], long[0]
    together, lengths = net(batch, torch.tensor([45, 120]))
    assert lengths.tolist() == ImageFront.output_lengths(torch.tensor([45, 120])).tolist() == [11, 30]
    torch.testing.assert_close(together[: lengths[0], 0], alone[:, 0], atol=1e-5, rtol=1e-4)


def test_recognizer_reads_images_and_paths(tiny_image_model, labelled_images):
    model = handwrite.load_model(tiny_image_model)
    assert model.kind == "image"
    path = sorted(labelled_images.glob("*.png"))[0]
    by_path, by_image = model.recognize(path), model.recognize(Image.open(path))
    assert by_path.text == by_image.text and 0 <= by_path.confidence <= 1


def test_a_page_image_gives_one_text_line_per_written_line(tiny_image_model, labelled_images):
    lines = [Image.open(p) for p in sorted(labelled_images.glob("*.png"))[:3]]
    page = Image.new("L", (max(i.width for i in lines), sum(i.height + 40 for i in lines)), 255)
    top = 0
    for line in lines:
        page.paste(line.convert("L"), (0, top))
        top += line.height + 40
    result = handwrite.load_model(tiny_image_model).recognize(page)
    assert result.text.count("\n") == 2


def test_kinds_do_not_mix(tiny_image_model, labelled_images):
    with pytest.raises(handwrite.HandwriteError, match="image model"):
        handwrite.load_model(tiny_image_model).recognize(handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    with pytest.raises(handwrite.HandwriteError, match="ink model"):
        handwrite.load_model().recognize(sorted(labelled_images.glob("*.png"))[0])


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_transcribe_images_with_bad_ones_among_them(capsys, tiny_image_model, labelled_images, tmp_path):
    good = sorted(labelled_images.glob("*.png"))[:2]
    (tmp_path / "broken.png").write_bytes(good[0].read_bytes()[:80])
    (tmp_path / "notes.jpg").write_text("not a picture")
    paths = [str(good[0]), str(tmp_path / "broken.png"), str(tmp_path / "notes.jpg"), str(good[1])]
    code, out, _ = run(capsys, "transcribe", *paths, "-m", str(tiny_image_model), "-f", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [r["path"] for r in records] == paths
    assert "text" in records[0] and "text" in records[3]
    assert "damaged image" in records[1]["error"] and "not an image" in records[2]["error"]


def test_a_named_model_of_the_other_kind_is_a_per_file_error(capsys, tiny_image_model, labelled_images):
    image, ink = sorted(labelled_images.glob("*.png"))[0], SAMPLE_INK / "hello-world.inkml"
    code, out, _ = run(capsys, "transcribe", str(ink), str(image), "-m", str(tiny_image_model), "-f", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "cannot read ink input" in records[0]["error"] and "text" in records[1]


def test_eval_scores_images_against_their_gt_txt(capsys, tiny_image_model, labelled_images):
    code, out, _ = run(capsys, "eval", str(labelled_images), "-m", str(tiny_image_model))
    assert code == 0 and "CER" in out and "(12 lines" in out


def test_finetune_on_images_writes_an_image_model(capsys, tiny_image_model, labelled_images, tmp_path):
    output = tmp_path / "mine.safetensors"
    args = ["finetune", str(labelled_images), "-b", str(tiny_image_model), "-o", str(output), "--max-steps", "4"]
    code, _, err = run(capsys, *args, "--no-progress")
    assert code == 0, err
    assert handwrite.load_model(output).kind == "image"
