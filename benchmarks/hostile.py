"""Hostile requests: what each costs the server before it is refused (issue 29's probe, replayed).

Each case is built here at the size the probe used, written to a temporary file, and sent in a
fresh process that has already imported what a warm server holds; the process measures its own
CPU time (all threads) and the growth of its peak resident memory across the one request. The
goal for every case: at most `GOAL_CPU_S` of CPU and `GOAL_MB` more memory before the refusal (or
the answer, for a request that is served within the same bounds).

Cases: a 1 MB `.mxl` whose member declares a tiny size and inflates to about 1 GB; a 19.9 MB MIDI
file full of notes; 50 such `.mxl` files in one upload batch; a ten-minute FLAC at 384 kHz with 8
channels; a hand-made share link asking for 20,000 tokens with the old unkeyed checksum (as a
signed link, and as an old unsigned one). About two minutes on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import resource
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

GOAL_CPU_S = 5.0
GOAL_MB = 300.0
BOMB_INFLATED_BYTES = 1_000_000_000  # zeros deflate about 1000:1, so this is a 1 MB file
MIDI_FLOOD_BYTES = 19_900_000
BATCH_FILES = 50
FLAC_RATE_HZ = 384_000
FLAC_CHANNELS = 8
FLAC_SECONDS = 600.0  # ten minutes: inside the 15-minute audio limit
FORGED_TOKENS = 20_000
BUNDLED_STYLE = "folk-tunes"


# ---- inputs ---------------------------------------------------------------------------------


def forged_mxl(inflated_bytes: int = BOMB_INFLATED_BYTES) -> bytes:
    """A .mxl (zip) whose one score member declares 1 kB and inflates to `inflated_bytes`."""
    declared = 1_000
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"<a/>" * (1 << 18)
    parts, left, crc = [], inflated_bytes, 0
    while left > 0:
        chunk = block[: min(len(block), left)]
        parts.append(deflater.compress(chunk))
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    parts.append(deflater.flush())
    packed = b"".join(parts)
    # The archive written by hand around the big member, declaring the small size: what a
    # forger does (zipfile would write the true one).
    name = b"score.xml"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), declared, len(name), 0
    )
    central_offset = len(local) + len(name) + len(packed)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(packed),
        declared,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    central_size = len(central) + len(name)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, central_size, central_offset, 0)
    return local + name + packed + central + name + end


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def midi_flood(total_bytes: int = MIDI_FLOOD_BYTES) -> bytes:
    """One track of notes a sixteenth apart (running status: 6 bytes a note), `total_bytes` long."""
    note = b"\x01\x3c\x40" + b"\x01\x3c\x00"  # delta 1, note on; delta 1, velocity 0 (off)
    count = (total_bytes - 30) // len(note)
    body = b"\x00\x90\x3c\x40" + b"\x01\x3c\x00" + note * (count - 1) + b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 4)  # 4 ticks a quarter: sixteenths
    return header + b"MTrk" + struct.pack(">I", len(body)) + body


def hires_flac(path: Path) -> None:
    import soundfile

    """A second of tone, then silence to `FLAC_SECONDS`: it packs into a few MB, far below the
    upload limit, and still costs its full sample count to decode."""
    second = np.arange(FLAC_RATE_HZ, dtype=np.float32) / FLAC_RATE_HZ
    tone = (0.3 * np.sin(2 * np.pi * 440.0 * second)).astype(np.float32)
    block = np.repeat(tone[:, None], FLAC_CHANNELS, axis=1)
    silence = np.zeros_like(block)
    with soundfile.SoundFile(
        path, "w", samplerate=FLAC_RATE_HZ, channels=FLAC_CHANNELS, format="FLAC", subtype="PCM_16"
    ) as sink:
        sink.write(block)
        for _ in range(int(FLAC_SECONDS) - 1):  # a second at a time: the builder stays small
            sink.write(silence)


def _old_check(params: dict[str, str]) -> str:
    """The checksum links carried before they were signed: anyone could compute it."""
    canonical = urlencode(sorted((k, v) for k, v in params.items() if k != "check"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def forged_link_params(tokens: int = FORGED_TOKENS, *, version: str = "2") -> dict[str, str]:
    """A real link of a bundled style, its length changed by hand and its checksum recomputed
    the way links were checked before they were signed (version 1 links still carry it)."""
    from core.generation.settings import SamplingSettings
    from core.generation.share_links import PieceRecipe, recipe_to_params

    params = recipe_to_params(PieceRecipe(BUNDLED_STYLE, 7, SamplingSettings()))
    params.pop("seconds", None)
    params["tokens"] = str(tokens)
    params["v"] = version
    params["check"] = _old_check(params)
    return params


# ---- requests, each run in a fresh process ---------------------------------------------------


def _read_music(path: str) -> str:
    from core.music.files import read_music

    read_music(Path(path).read_bytes(), name=Path(path).name)
    return "read"


def _read_batch(folder: str) -> str:
    from core.music.files import read_music

    refused = 0
    for path in sorted(Path(folder).iterdir()):
        try:
            read_music(path.read_bytes(), name=path.name)
        except Exception:  # each refusal is the expected outcome; the bench counts them
            refused += 1
    return f"{refused} of {BATCH_FILES} refused"


def _decode_audio(path: str) -> str:
    """The audio read as transcription reads it: in blocks, at Basic Pitch's rate."""
    from core.audio.decoding import AudioStream

    with AudioStream(Path(path), sample_rate_hz=22_050) as stream:
        samples = sum(block.size for block in stream.blocks())
    return f"decoded {samples / 22_050:.1f} s"


def _share_link(params_json: str) -> str:
    from core.generation.share_links import params_to_recipe, recipe_to_result

    recipe = params_to_recipe(json.loads(params_json))
    result = recipe_to_result(recipe)
    return f"played {len(result.tokens)} tokens"


def _warm_up(kind: str) -> Callable[[str], str]:
    """Import what a warm server holds before the request is measured."""
    import core.audio.decoding
    import core.music.files  # noqa: F401

    if kind == "link":
        from core.generation.generator import Generator
        from core.generation.share_links import params_to_recipe  # noqa: F401

        Generator.from_folder(BUNDLED_STYLE)  # the page keeps it in st.cache_resource
    requests = {"music": _read_music, "batch": _read_batch, "audio": _decode_audio}
    return {**requests, "link": _share_link}[kind]


def _measure_child(kind: str, argument: str, results: Any) -> None:
    request = _warm_up(kind)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    before_kb, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    wall = time.perf_counter()
    try:
        outcome, refused = request(argument), False
    except Exception as error:  # what a visitor would see: the refusal's sentence
        outcome, refused = f"{type(error).__name__}: {error}", True
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(
        {
            "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu_before, 2),
            "mb_added": round((usage.ru_maxrss - before_kb) / 1024, 1),
            "wall_s": round(time.perf_counter() - wall, 2),
            "refused": refused,
            "outcome": outcome[:200],
        }
    )


def measure(kind: str, argument: str, *, timeout_s: float = 300.0) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_measure_child, args=(kind, argument, results))
    child.start()
    try:
        figures: dict[str, Any] = results.get(timeout=timeout_s)
    except Exception:  # the child died (killed for memory) or ran past the timeout
        child.kill()
        figures = {"refused": False, "outcome": f"no answer (exit code {child.exitcode})"}
    child.join()
    cpu, mb = figures.get("cpu_s"), figures.get("mb_added")
    figures["goal_met"] = cpu is not None and cpu <= GOAL_CPU_S and mb <= GOAL_MB
    return figures


def run() -> dict[str, Any]:
    started = time.perf_counter()
    cases: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="tunesmith-hostile-") as tmp:
        root = Path(tmp)
        bomb = forged_mxl()
        (root / "bomb.mxl").write_bytes(bomb)
        cases["mxl_forged_sizes"] = {"file_mb": round(len(bomb) / 1e6, 2)} | measure(
            "music", str(root / "bomb.mxl")
        )
        batch = root / "batch"
        batch.mkdir()
        for index in range(BATCH_FILES):
            (batch / f"bomb{index:02d}.mxl").write_bytes(bomb)
        cases["mxl_batch_of_50"] = measure("batch", str(batch))
        flood = midi_flood()
        (root / "flood.mid").write_bytes(flood)
        cases["midi_flood"] = {"file_mb": round(len(flood) / 1e6, 2)} | measure(
            "music", str(root / "flood.mid")
        )
        hires_flac(root / "hires.flac")
        cases["flac_384khz_8ch"] = {
            "file_mb": round((root / "hires.flac").stat().st_size / 1e6, 1)
        } | measure("audio", str(root / "hires.flac"))
    cases["forged_link_20000_tokens"] = measure("link", json.dumps(forged_link_params()))
    cases["forged_old_link_20000_tokens"] = measure(
        "link", json.dumps(forged_link_params(version="1"))
    )
    met = sum(case["goal_met"] for case in cases.values())
    return {
        "goal": f"each request: at most {GOAL_CPU_S:g} s of CPU and {GOAL_MB:g} MB more memory",
        "cases": cases,
        "goals_met": f"{met} of {len(cases)}",
        "wall_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
