"""`python -m core roundtrip FILE --out OUT.mid`: encode one file to tokens and decode it back."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._common import int_in, print_json
from core.commands.dataset import add_encoding_arguments, encoding_config_from_args
from core.music.files import read_music
from core.music.midi import midi_to_bytes, piece_to_midi
from core.storage.files import atomic_write_bytes
from core.tokens.scheme import piece_to_tokens, prepare_piece, tokens_to_piece

# A songbook (an ABC file) holds hundreds of tunes at most; a larger index is a typo.
MAX_PIECE_INDEX = 10_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a MIDI, MusicXML or ABC file")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT.mid")
    index = int_in(1, MAX_PIECE_INDEX)
    parser.add_argument(
        "--index",
        type=index,
        default=1,
        metavar="N",
        help=f"which piece of a file that holds several ({index}; default 1)",
    )
    add_encoding_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    config = encoding_config_from_args(args)
    pieces = read_music(args.file, steps_per_quarter=config.steps_per_quarter)
    if not 1 <= args.index <= len(pieces):
        raise SystemExit(f"error: {args.file.name}: holds {len(pieces)} pieces, not {args.index}")
    piece = prepare_piece(pieces[args.index - 1], config)
    tokens = piece_to_tokens(piece, config)
    decoded = tokens_to_piece(tokens, config, name=piece.name, tempo_bpm=piece.tempo_bpm)
    atomic_write_bytes(args.out, midi_to_bytes(piece_to_midi(decoded)))
    figures = {
        "file": str(args.file),
        "piece": piece.name,
        "notes_in": len(piece.notes),
        "tokens": len(tokens),
        "notes_out": len(decoded.notes),
        "exact": decoded.notes == piece.notes,
        "tempo_bpm": piece.tempo_bpm,
        "out": str(args.out),
    }
    if args.json:
        print_json(figures)
    else:
        print(
            f"{piece.name}: {len(piece.notes)} notes → {len(tokens)} tokens → "
            f"{len(decoded.notes)} notes ({'exact' if figures['exact'] else 'changed'}); "
            f"wrote {args.out}"
        )
    return 0
