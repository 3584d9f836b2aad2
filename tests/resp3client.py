"""A raw RESP3 client for the tests: replies as the exact bytes of one
frame (frame_end finds where it ends), decoded on demand."""

from proxytest import RawClient, encode


def frame_end(buf, i):
    """The end of the one RESP2/RESP3 reply at buf[i:], or None if partial."""
    j = buf.find(b"\r\n", i)
    if j < 0:
        return None
    t, head = buf[i:i + 1], buf[i + 1:j]
    if t in b"+-:_#,(":
        return j + 2
    n = int(head)
    if t in b"$=!":
        if n < 0:
            return j + 2
        return None if len(buf) < j + 2 + n + 2 else j + 2 + n + 2
    if t == b"|":
        end = j + 2
        for _ in range(2 * n):
            end = frame_end(buf, end)
            if end is None:
                return None
        return frame_end(buf, end)
    count = 2 * n if t == b"%" else max(n, 0)
    end = j + 2
    for _ in range(count):
        end = frame_end(buf, end)
        if end is None:
            return None
    return end


def decode(buf, i=0):
    """(value, end): maps as dicts, sets as ("set", items), doubles as floats."""
    j = buf.index(b"\r\n", i)
    t, head = buf[i:i + 1], buf[i + 1:j]
    if t in b"+-":
        return (t + head).decode(), j + 2
    if t in b":(":
        return int(head), j + 2
    if t == b",":
        return float(head), j + 2
    if t == b"#":
        return head == b"t", j + 2
    if t == b"_":
        return None, j + 2
    n = int(head)
    if t in b"$=!":
        return (None, j + 2) if n < 0 else (buf[j + 2:j + 2 + n], j + 2 + n + 2)
    items, end = [], j + 2
    for _ in range(2 * n if t == b"%" else max(n, 0)):
        v, end = decode(buf, end)
        items.append(v)
    if t == b"%":
        return {items[k]: items[k + 1] for k in range(0, len(items), 2)}, end
    if t == b"~":
        return ("set", items), end
    return (None if n < 0 else items), end


class Resp3Client(RawClient):
    """RawClient whose replies are the exact bytes of one RESP3 frame."""

    def frame(self):
        while True:
            end = frame_end(self.buf, 0) if self.buf else None
            if end is not None:
                data, self.buf = self.buf[:end], self.buf[end:]
                return data
            self._fill()

    def raw_call(self, *args):
        self.send(encode(*args))
        return self.frame()
