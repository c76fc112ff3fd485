"""Walking the audit chain: is every event where the chain says it should be, as it was written?"""

from dataclasses import dataclass

from .chain import GENESIS, link_hash
from .models import AuditChainHead, AuditEvent


@dataclass
class ChainVerdict:
    ok: bool
    checked: int
    head_hash: str
    first_broken_id: int | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events, head {self.head_hash}"
        return f"audit chain broken at event {self.first_broken_id}: {self.reason} ({self.checked} events checked before it)"


def audit_chain_verify(*, chunk_size: int = 2000, expect_head: str = "") -> ChainVerdict:
    """Recompute every link in id order, ``chunk_size`` rows at a time (bounded memory, linear time).

    Names the first event whose hash does not follow from the one before it: that event was changed, or
    one before it was removed or inserted. Then checks the tail: the head row must name the last event and
    its hash (a cut-off end shows), and ``expect_head``, a head hash copied out earlier, must still be in
    the chain.
    """
    previous, checked, last_id = GENESIS, 0, None
    seen_expected = not expect_head
    events = AuditEvent.objects.order_by("id").values()
    for values in events.iterator(chunk_size=chunk_size):
        expected = link_hash(previous, values)
        if values["chain_hash"] != expected:
            return ChainVerdict(
                False, checked, previous, values["id"],
                "its hash does not follow from the event before it: it was changed, or an event before it "
                "was removed or inserted",
            )  # fmt: skip
        previous, last_id, checked = expected, values["id"], checked + 1
        seen_expected = seen_expected or expected == expect_head
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_event_id != last_id or head.last_hash != previous):
        return ChainVerdict(
            False, checked, previous, head.last_event_id,
            f"the head names event {head.last_event_id}, but the chain ends at event {last_id}: events were cut off the end",
        )  # fmt: skip
    if not seen_expected:
        return ChainVerdict(False, checked, previous, last_id, f"the published head {expect_head} is not in the chain")
    return ChainVerdict(True, checked, previous)
