"""Anki packages with a review history, made by the official ``anki`` library (a dev
dependency): notes and cards are added through its API and the package is written by its
exporter (``export_anki_package``, scheduling included); the review history, which Anki only
records as a student answers in real time, is written into the collection's own ``revlog``
table (and each card's ``type``/``queue``/``ivl``/``due`` set to match) through the library's
database handle. The simulated student learns a card (steps of 10 minutes, learn rows with a
negative interval in seconds), then reviews it at its interval, lapses sometimes (a relearn
step), and now and then a card is rescheduled by hand (an ease-0 row) or reset ("Forget").
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass

NOW_MS = 1_790_000_000_000  # 2026-09-21: the histories end before it
DAY_MS = 86_400_000


@dataclass
class Made:
    data: bytes
    notes: int
    revlog: int
    histories: dict[str, list[tuple[int, int, int, int, int]]]  # card key -> (id, ease, type, ivl, factor)


def _history(rng: random.Random, rows: int, start_ms: int) -> list[tuple[int, int, int, int, int]]:
    """``rows`` revlog rows of one card: (id ms, ease, type, ivl, factor)."""
    out: list[tuple[int, int, int, int, int]] = []
    t, ivl, learning, kind = start_ms, 0, True, 0
    while len(out) < rows:
        if out and rng.random() < 0.01:  # set due date (not a review), or a reset
            reset = rng.random() < 0.5
            out.append((t, 0, 4, 0 if reset else rng.randint(1, 30), 0))
            if reset:
                learning, kind, ivl = True, 0, 0
            t += rng.randint(1, 3) * DAY_MS
            continue
        if learning:
            ease = rng.choices([1, 3, 4], [0.2, 0.7, 0.1])[0]
            if ease == 1 or (ease == 3 and rng.random() < 0.4):
                out.append((t, ease, kind, -600, 0))
                t += 600_000 + rng.randint(0, 120_000)
                continue
            ivl = max(1, ivl // 2) if kind == 2 else (1 if ease == 3 else 4)
            out.append((t, ease, kind, ivl, 2500))
            learning = False
        else:
            ease = rng.choices([1, 2, 3, 4], [0.12, 0.08, 0.7, 0.1])[0]
            if ease == 1:
                out.append((t, 1, 1, -600, 2300))
                learning, kind = True, 2
                t += 600_000
                continue
            ivl = min(365, max(ivl + 1, round(ivl * {2: 1.2, 3: 2.5, 4: 3.5}[ease])))
            out.append((t, ease, 1, ivl, 2500))
        t += ivl * DAY_MS + rng.randint(-3_600_000, 3 * 3_600_000)
    return out


def package(
    notes: int = 2_000, revlog: int = 20_000, *, cloze_share: float = 0.2, legacy: bool = False, seed: int = 17
) -> Made:
    """An ``.apkg`` of ``notes`` notes (basic, and cloze with two deletions) whose cards have
    ``revlog`` review log rows in all (some cards none: they are new)."""
    from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(os.path.join(tmp, "collection.anki2"))
        try:
            deck_id = col.decks.id("Biology")
            basic, cloze = col.models.by_name("Basic"), col.models.by_name("Cloze")
            keys: dict[int, str] = {}
            for i in range(notes):
                if i < notes * cloze_share:
                    note = col.new_note(cloze)
                    note["Text"] = f"Enzyme {i} works at {{{{c1::pH {i % 14}}}}} and {{{{c2::{30 + i % 20} °C}}}}"
                else:
                    note = col.new_note(basic)
                    note["Front"] = f"<b>Term {i}</b>"
                    note["Back"] = f"Definition {i} &amp; more<br>line two"
                note.tags = ["bio", f"set{i % 5}"]
                col.add_note(note, deck_id)
                for card in note.cards():
                    keys[card.id] = f"{i}:{card.ord}"
            card_ids = sorted(keys)
            reviewed = [c for c in card_ids if rng.random() < 0.85]
            counts = [1] * len(reviewed)
            for _ in range(revlog - len(reviewed)):
                counts[rng.randrange(len(reviewed))] += 1
            rows, histories, used = [], {}, set()
            for cid, n in zip(reviewed, counts, strict=True):
                made = _history(rng, n, 0)
                shift = NOW_MS - rng.randint(0, 60) * DAY_MS - made[-1][0]  # the last review before NOW_MS
                history = []
                for t0, ease, kind, ivl, factor in made:
                    t = t0 + shift
                    while t in used:
                        t += 1
                    used.add(t)
                    history.append((t, ease, kind, ivl, factor))
                    rows.append((t, cid, -1, ease, ivl, 0, factor, rng.randint(2_000, 20_000), kind))
                histories[keys[cid]] = history
                last = next((h for h in reversed(history) if h[1] or h[3] == 0), history[-1])
                ctype = 0 if last[1] == 0 else (2 if last[3] > 0 else (1 if last[2] == 0 else 3))
                ivl = last[3] if last[3] > 0 else 0
                due = (last[0] // DAY_MS) + ivl if ctype == 2 else (last[0] - last[3] * 1000) // 1000
                col.db.execute(
                    "update cards set type=?, queue=?, ivl=?, due=?, reps=? where id=?",
                    ctype,
                    ctype if ctype != 3 else 1,
                    ivl,
                    0 if ctype == 0 else due,
                    n,
                    cid,
                )
            col.db.executemany(
                "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) values (?,?,?,?,?,?,?,?,?)",
                rows,
            )
            out = os.path.join(tmp, "deck.apkg")
            options = ExportAnkiPackageOptions(
                with_scheduling=True, with_deck_configs=False, with_media=False, legacy=legacy
            )
            col.export_anki_package(out_path=out, options=options, limit=DeckIdLimit(deck_id))
        finally:
            col.close()
        with open(out, "rb") as f:
            return Made(f.read(), notes, len(rows), histories)
