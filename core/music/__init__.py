"""Music as notes on a grid: the piece record, keys and scales, MIDI/MusicXML/ABC files, sheet
music and the piano roll."""

from core.music.files import MUSIC_UPLOAD_TYPES
from core.music.midi import midi_to_bytes, piece_to_midi
from core.music.notation import musicxml_to_svg, piece_to_musicxml
from core.music.pianoroll import piece_to_figure, pitch_name
from core.music.piece import GRIDS, Piece
from core.music.scales import TONIC_NAMES, Scale, key_label

__all__ = [
    "GRIDS",
    "MUSIC_UPLOAD_TYPES",
    "TONIC_NAMES",
    "Piece",
    "Scale",
    "key_label",
    "midi_to_bytes",
    "musicxml_to_svg",
    "piece_to_figure",
    "piece_to_midi",
    "piece_to_musicxml",
    "pitch_name",
]
