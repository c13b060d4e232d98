"""Training tests need the ``train`` extra (torch); they skip cleanly without it."""

import pytest

pytest.importorskip("torch")
