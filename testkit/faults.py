"""argv builders for the faults tests inject (they prove verification catches them)."""


def flip_byte(path: str, offset: int) -> list[str]:
    """Invert one byte in place (fault tests prove verification catches corruption); never a no-op."""
    program = ("import sys; f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); "
               "f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))")
    return ["python3", "-c", program, path, str(int(offset))]
