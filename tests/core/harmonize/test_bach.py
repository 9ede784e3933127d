"""The harmonizer trains on the app's training side only: the held-out chorales stay unseen."""

from __future__ import annotations

import hashlib

from core.data.datasets import collection_heldout_names
from core.harmonize.bach import chorale_files


def test_the_split_is_the_apps_by_name_and_by_content() -> None:
    held = chorale_files(heldout=True)
    train = chorale_files(heldout=False)
    names = collection_heldout_names("bach-chorales", steps_per_quarter=4)
    assert {p.stem for p in held} == set(names)
    assert not {p.stem for p in train} & set(names)
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (*held, *train)}
    assert not {digest[p] for p in held} & {digest[p] for p in train}
    assert len({digest[p] for p in train}) == len(train)  # each chorale once
