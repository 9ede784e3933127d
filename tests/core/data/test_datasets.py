import json

import pytest

import core.data.datasets as datasets
import core.data.parse_cache as parse_cache
from core.data.datasets import (
    COLLECTIONS,
    SPLIT_SEED,
    build_dataset,
    collection_heldout_names,
    export_dataset,
    load_dataset,
    load_files,
    split_names,
)
from core.errors import InvalidMusicError
from core.tokens.config import EncodingConfig
from core.tokens.vocabulary import Vocabulary

GOOD = ["scale.mid", "tunes.abc", "tune.musicxml"]
BAD = ["not_music.mid", "truncated.mid", "empty.mid", "no_notes.mid", "absurd_ticks.mid"]


def test_a_batch_with_bad_files_still_loads_the_good_ones(music_fixture, isolated_data_dir):
    progress = []
    result = load_files(
        [music_fixture(n) for n in BAD + GOOD],
        steps_per_quarter=4,
        on_progress=lambda done, total, info: progress.append((done, total)),
    )
    assert sorted(p.name for p in result.pieces) == [
        "scale",
        "tune",
        "tunes #1 First Little Tune",
        "tunes #2 Second Little Tune",
    ]
    assert [e.split(":")[0] for e in result.errors] == BAD
    assert progress[-1] == (8, 8)


def test_second_load_comes_from_the_cache(music_fixture, isolated_data_dir, monkeypatch):
    files = [music_fixture(n) for n in [*GOOD, "no_notes.mid"]]
    first = load_files(files, steps_per_quarter=4)
    calls = []
    monkeypatch.setattr(parse_cache, "read_music", lambda *a, **k: calls.append(a))
    second = load_files(files, steps_per_quarter=4)
    assert calls == []
    assert second == first  # pieces and the cached refusal alike
    # another grid is another cache entry
    with pytest.raises(TypeError):
        load_files(files[:1], steps_per_quarter=3)  # the patched reader returns None


def test_cached_pieces_take_the_name_of_the_file_now_loaded(music_fixture, isolated_data_dir):
    data = music_fixture("scale.mid").read_bytes()
    load_files([("first.mid", data)], steps_per_quarter=4)
    again = load_files([("second.mid", data)], steps_per_quarter=4)
    assert [p.name for p in again.pieces] == ["second"]


def test_identical_files_are_loaded_once(music_fixture, isolated_data_dir):
    data = music_fixture("scale.mid").read_bytes()
    result = load_files([("a.mid", data), ("b.mid", data)], steps_per_quarter=4)
    assert [p.name for p in result.pieces] == ["a"]


def test_split_is_by_piece_deterministic_and_stable():
    names = [f"piece {i}" for i in range(50)]
    train, valid = split_names(names, seed=SPLIT_SEED)
    assert set(train).isdisjoint(valid) and sorted(train + valid) == list(range(50))
    assert len(valid) == 5
    assert split_names(names, seed=SPLIT_SEED) == (train, valid)
    assert split_names(names, seed=SPLIT_SEED + 1) != (train, valid)
    # adding pieces does not move the old ones to the other side
    more = names + [f"new {i}" for i in range(10)]
    _, valid2 = split_names(more, seed=SPLIT_SEED)
    moved = {names[i] for i in valid} ^ {more[i] for i in valid2 if i < 50}
    assert len(moved) <= 1
    assert split_names(["only"]) == ([0], [])


def test_dataset_vocabulary_comes_from_training_pieces_only(music_fixture, isolated_data_dir):
    pieces = load_files([music_fixture(n) for n in GOOD], steps_per_quarter=4).pieces
    dataset = build_dataset(pieces, name="t", config=EncodingConfig(), valid_fraction=0.25)
    assert len(dataset.valid) == 1 and len(dataset.train) == 3
    train_tokens = {t for p in dataset.train for t in p.tokens}
    assert set(dataset.vocab.tokens) - train_tokens == {"PAD", "UNK"}
    summary = dataset.summary()
    assert summary.pieces == 4 and summary.vocab_size == len(dataset.vocab)
    assert 0 < summary.heldout_coverage <= 1


def test_augmentation_widens_the_vocabulary(music_fixture, isolated_data_dir):
    pieces = load_files([music_fixture("scale.mid")], steps_per_quarter=4).pieces
    plain = build_dataset(pieces, name="t", config=EncodingConfig())
    wide = build_dataset(pieces, name="t", config=EncodingConfig(transpose_semitones=2))
    assert "P58" not in plain.vocab and {"P58", "P59", "P61", "P62"} <= set(wide.vocab.tokens)


def test_export_writes_vocab_and_jsonl(music_fixture, isolated_data_dir, tmp_path):
    dataset = load_dataset([music_fixture(n) for n in GOOD], config=EncodingConfig())
    export_dataset(dataset, tmp_path / "out")
    vocab = Vocabulary.load(tmp_path / "out" / "vocab.json")
    assert vocab == dataset.vocab
    lines = [json.loads(x) for x in (tmp_path / "out" / "valid.jsonl").read_text().splitlines()]
    assert [x["name"] for x in lines] == [p.name for p in dataset.valid]
    assert lines[0]["ids"] == vocab.encode(dataset.valid[0].tokens)
    train_ids = [
        json.loads(x)["ids"] for x in (tmp_path / "out" / "train.jsonl").read_text().splitlines()
    ]
    assert vocab.decode(train_ids[0]) == list(dataset.train[0].tokens)
    assert EncodingConfig.load(tmp_path / "out" / "encoding.json") == dataset.config


def test_nothing_usable_is_an_error(music_fixture, isolated_data_dir):
    with pytest.raises(InvalidMusicError, match=r"empty\.mid: the file is empty"):
        load_dataset([music_fixture("empty.mid")])


def test_folk_preset_reads_tune_books():
    dataset = load_dataset(["folk-tunes"], limit=1)
    assert len(dataset.pieces) > 20  # one ABC file of O'Neill's holds dozens of tunes
    assert all(p.notes for p in dataset.pieces)


def test_part_of_a_built_in_collection_is_judged_on_what_the_base_never_trained_on():
    whole = load_dataset(["bach-chorales"])
    base_heldout = {e.name for e in whole.valid}
    assert collection_heldout_names("bach-chorales", steps_per_quarter=4) == base_heldout
    # the first five files hold no piece the base held out: one is added from that side
    first = load_dataset(["bach-chorales"], limit=5)
    assert len(first.train) == 5 and len(first.valid) == 1
    assert {e.name for e in first.valid} <= base_heldout
    assert not {e.name for e in first.train} & base_heldout
    # another split seed would leak the same way: the base's side decides
    reseeded = load_dataset(["bach-chorales"], limit=30, seed=99)
    assert reseeded.valid and {e.name for e in reseeded.valid} <= base_heldout
    assert not {e.name for e in reseeded.train} & base_heldout


def test_built_in_music_the_base_never_saw_is_split_among_itself(monkeypatch):

    monkeypatch.setattr(datasets, "BASE_COLLECTIONS", ("folk-tunes",))
    first = load_dataset(["bach-chorales"], limit=10)
    assert len(first.pieces) == 10 and len(first.train) == 9 and len(first.valid) == 1


@pytest.mark.slow
def test_a_collection_sharing_tunes_with_the_base_s_holds_out_what_it_held_out():
    folk_heldout = collection_heldout_names("folk-tunes", steps_per_quarter=4)
    oneills = load_dataset(["oneills-1850"])
    assert oneills.valid and {e.name for e in oneills.valid} <= folk_heldout
    assert not {e.name for e in oneills.train} & folk_heldout


@pytest.mark.slow
def test_factorized_vocabulary_covers_held_out_bach_chorales():
    """The Foundation issue's bar: ≥ 99% of held-out chorale tokens are in the vocabulary."""
    files = COLLECTIONS["bach-chorales"].files()
    assert len(files) > 300
    dataset = load_dataset(["bach-chorales"])
    summary = dataset.summary()
    assert summary.valid_pieces >= 30
    assert summary.heldout_coverage >= 0.99
    train_names = {p.name for p in dataset.train}
    assert train_names.isdisjoint(p.name for p in dataset.valid)


def test_parallel_cold_parse_gives_the_same_pieces(music_fixture, tmp_path, monkeypatch):
    files = [music_fixture(n) for n in GOOD + BAD]
    monkeypatch.setattr(parse_cache, "PARALLEL_MIN_FILES", 2)
    results = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path / workers))
        monkeypatch.setenv("TUNESMITH_PARSE_WORKERS", workers)
        results[workers] = load_files(files, steps_per_quarter=4)
    assert results["1"] == results["2"]
    assert len(list((tmp_path / "2" / "cache" / "pieces").iterdir())) == len(files)


def test_the_cache_keeps_apart_the_same_bytes_under_another_extension(music_fixture, tmp_path,
                                                                     monkeypatch):
    from core.data.parse_cache import read_music_cached
    from core.errors import InvalidMusicError

    monkeypatch.setenv("TUNESMITH_DATA_DIR", str(tmp_path))
    data = music_fixture("scale.mid").read_bytes()
    assert music_fixture("mislabelled.abc").read_bytes() == data
    with pytest.raises(InvalidMusicError):
        read_music_cached(data, name="mislabelled.abc", steps_per_quarter=4)
    assert read_music_cached(data, name="scale.mid", steps_per_quarter=4)[0].notes
    with pytest.raises(InvalidMusicError):  # and the other way round, from the cache
        read_music_cached(data, name="again.abc", steps_per_quarter=4)


# ---------------------------------------------------------------- the meters of the music


def test_the_summary_counts_the_meters_of_a_built_in_collection():
    """O'Neill's first 50 tunes, by their M: lines: 22 in 3/4, 12 in 6/8, 11 in 4/4 (M:C
    among them), 4 in 2/4, 1 in 9/8."""
    from core.data.datasets import load_sources, summarize_music

    pieces = load_sources(["oneills-1850"], steps_per_quarter=4, limit=1).pieces
    music = summarize_music(pieces)
    assert music is not None and music.pieces == 50
    assert music.meters == {"3/4": 0.44, "6/8": 0.24, "4/4": 0.22, "2/4": 0.08, "9/8": 0.02}
    assert list(music.meters) == ["3/4", "6/8", "4/4", "2/4", "9/8"]  # the most common first
    assert music.main_meter == "3/4" and music.beats_per_bar == 3 and music.meter_known


def test_a_key_normalized_dataset_keeps_the_meters():
    from core.music.piece import Note, Piece

    def tune(name: str, meter: str) -> Piece:
        notes = tuple(Note(i * 2, p, 2) for i, p in enumerate((62, 66, 69, 74, 69, 66) * 4))
        return Piece(name, notes, 4, 110.0, meter=meter)

    pieces = [tune(f"jig {i}", "6/8") for i in range(6)] + [tune("reel", "4/4"), tune("air", "")]
    dataset = build_dataset(pieces, name="mixed", config=EncodingConfig(normalize_key=True),
                            valid_names={"air"})
    assert all(p.key.startswith("C major") for p in dataset.pieces)
    assert [p.meter for p in dataset.pieces] == [p.meter for p in pieces]
    music = dataset.music_summary()  # the training side: six jigs and a reel
    assert music is not None and music.meters == {"6/8": round(6 / 7, 4), "4/4": round(1 / 7, 4)}
    assert music.beats_per_bar == 2 and music.meter_known  # 6/8: two beats of three eighths


def test_the_summary_s_meter_is_known_when_half_the_pieces_state_one():
    from core.data.datasets import MAX_SUMMARY_METERS, summarize_music
    from core.music.piece import Note, Piece

    notes = (Note(0, 60, 4), Note(4, 64, 4))
    stated = Piece("waltz", notes, meter="3/4")
    unstated = Piece("generated", notes)
    none = summarize_music([unstated, unstated])
    assert none is not None and none.meters is None and not none.meter_known
    assert none.beats_per_bar == 4 and none.main_meter == ""
    half = summarize_music([stated, unstated])
    assert half is not None and half.meters == {"3/4": 0.5} and half.meter_known
    assert half.notes_per_onset == 1.0
    chords = Piece("chords", (Note(0, 60, 4), Note(0, 64, 4), Note(0, 67, 4), Note(4, 60, 4)))
    mixed = summarize_music([chords])
    assert mixed is not None and mixed.notes_per_onset == 2.0  # (3 + 1) notes at 2 onsets
    less = summarize_music([stated, unstated, unstated])
    assert less is not None and less.meters == {"3/4": 0.3333} and not less.meter_known
    assert less.beats_per_bar == 3  # still the meter that is stated
    many = [Piece(f"p{n}", notes, meter=f"{n}/4") for n in range(1, 21)]
    spread = summarize_music(many)
    assert spread is not None and spread.meters is not None
    assert len(spread.meters) == MAX_SUMMARY_METERS


@pytest.mark.parametrize(
    "meters",
    [{"fast": 0.5}, {"6/8": 1.5}, {"6/8": -0.1}, {"6/8": True}, ["6/8"],
     {f"{n}/4": 0.01 for n in range(1, 18)}],
)
def test_a_summary_with_wrong_meters_is_refused(meters):
    from core.data.datasets import MusicSummary

    with pytest.raises(ValueError):
        MusicSummary(tempo_bpm=100.0, chord_onset_share=0.0, max_notes_per_onset=1, pitch_low=60,
                     pitch_high=72, pieces=2, meters=meters)
