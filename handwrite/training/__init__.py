"""Everything only training needs: datasets, augmentation, synthetic ink and line
images (data/), the training loop (train.py) and fine-tuning (finetune.py).

Recognition never imports this package (tests/test_import_boundary.py): it holds
the heavy and training-only dependencies (HersheyFonts, matplotlib,
wordfreq, tqdm). Import its modules directly, e.g. `from handwrite.training.train
import Trainer`."""
