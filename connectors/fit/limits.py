"""How much of a FIT file runlift is willing to decode, checked before decoding.

Decoding costs memory per message (~150-200 bytes at the peak, whatever the message holds), and a
FIT message can be one byte long, so a file's size alone does not bound it: a 4 MB file of 2-byte
records is 2 million records. :func:`too_many_messages` walks the FIT framing (file headers,
definition messages, data and compressed-timestamp headers: no field is read) and stops as soon
as the count passes :data:`MAX_MESSAGES`, so the check itself needs no memory. Files smaller than
:data:`MAX_MESSAGES` bytes cannot hold more messages and are not walked at all.
"""

from __future__ import annotations

# Messages (all kinds) in one FIT file at most: a 1 Hz recording of 5.8 days. A real 10 MB
# activity holds ~300,000; decoding 500,000 takes ~100 MB.
MAX_MESSAGES = 500_000


def count_messages(buf: bytes, stop_after: int = MAX_MESSAGES) -> int:
    """Data messages in ``buf`` (chained files included), counting stops once past ``stop_after``.

    The walk ends quietly at the first framing error (the decoder reports those); it only counts.
    """
    n = len(buf)
    pos = 0
    count = 0
    while n - pos >= 12 and buf[pos + 8:pos + 12] == b".FIT":
        hsize = buf[pos]
        if hsize < 12:
            break
        p = pos + hsize
        data_end = min(p + int.from_bytes(buf[pos + 4:pos + 8], "little"), n)
        size = [0] * 256  # record header byte -> 1 + body size of its data message
        while p < data_end:
            h = buf[p]
            z = size[h]
            if z:
                p += z
                count += 1
                if count > stop_after:
                    return count
                continue
            if h & 0xC0 != 0x40:  # a data message of an undefined local type: the decoder stops here
                return count
            if p + 6 > n:
                return count
            q = p + 6 + 3 * buf[p + 5]
            body = sum(buf[k + 1] for k in range(p + 6, min(q, n), 3))
            if h & 0x20 and q < n:  # developer fields
                q2 = q + 1 + 3 * buf[q]
                body += sum(buf[k + 1] for k in range(q + 1, min(q2, n), 3))
                q = q2
            local = h & 0x0F
            z = 1 + body
            size[local] = size[local | 0x10] = size[local | 0x20] = size[local | 0x30] = z
            if local < 4:
                base = 0x80 | local << 5
                size[base:base + 32] = [z] * 32
            p = q
        pos = p + 2  # the file CRC
    return count


def too_many_messages(data: bytes) -> str | None:
    """The reason ``data`` is not decoded (more than MAX_MESSAGES messages), or None."""
    if len(data) <= MAX_MESSAGES:
        return None
    if count_messages(data) > MAX_MESSAGES:
        return f"more than {MAX_MESSAGES:,} FIT messages, over runlift's limit for one file; not decoded"
    return None
