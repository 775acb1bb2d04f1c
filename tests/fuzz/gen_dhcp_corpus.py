#!/usr/bin/env python3
"""gen_dhcp_corpus.py: writes the seed corpus of fuzz_dhcp and prints the
checksums of the golden frames in tests/unit/test_dhcp.c.

An independent encoder (Python's struct, not mignet's C builder), so the
checksums it prints are a second opinion on the C code.  Never reads or
writes anything outside tests/fuzz/corpus/dhcp/.
"""
import os
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def mac(a):
    return bytes(int(x, 16) for x in a.split(":"))


def opt(code, data):
    return bytes([code, len(data)]) + data


def frame(eth_dst, eth_src, vlan_tci, ip_src, ip_dst, sport, dport, op,
          xid, flags, ciaddr, yiaddr, siaddr, chaddr, options,
          file=b"", sname=b"", pad_to=300):
    bootp = struct.pack("!BBBBIHH", op, 1, 6, 0, xid, 0, flags)
    bootp += ip4(ciaddr) + ip4(yiaddr) + ip4(siaddr) + ip4("0.0.0.0")
    bootp += mac(chaddr) + bytes(10)
    bootp += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    bootp += bytes([99, 130, 83, 99]) + options
    bootp = bootp.ljust(pad_to, b"\0")
    ulen = 8 + len(bootp)
    src, dst = ip4(ip_src), ip4(ip_dst)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp0 = struct.pack("!HHHH", sport, dport, ulen, 0) + bootp
    uc = csum(pseudo + udp0) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, ulen, uc) + bootp
    hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0)
    hdr += src + dst
    ic = csum(hdr)
    hdr = hdr[:10] + struct.pack("!H", ic) + hdr[12:]
    eth = mac(eth_dst) + mac(eth_src)
    if vlan_tci is not None:
        eth += struct.pack("!HH", 0x8100, vlan_tci)
    eth += b"\x08\x00"
    return eth + hdr + udp, ic, uc


CLIENT = "52:54:00:12:34:56"
SERVER = "02:00:00:00:00:fe"
GOLDEN = {
    "ack": frame(CLIENT, SERVER, None, "198.18.0.1", "198.18.0.10", 67, 68,
                 2, 0x3903F326, 0, "0.0.0.0", "198.18.0.10", "198.18.0.1",
                 CLIENT,
                 opt(53, b"\x05") + opt(54, ip4("198.18.0.1"))
                 + opt(51, struct.pack("!I", 3600))
                 + opt(58, struct.pack("!I", 1800))
                 + opt(59, struct.pack("!I", 3150))
                 + opt(1, ip4("255.255.254.0")) + opt(3, ip4("198.18.0.1"))
                 + b"\xff"),
    "nak": frame("ff:ff:ff:ff:ff:ff", SERVER, None, "198.18.0.1",
                 "255.255.255.255", 67, 68, 2, 0x3903F327, 0x8000,
                 "0.0.0.0", "0.0.0.0", "0.0.0.0", CLIENT,
                 opt(53, b"\x06") + opt(54, ip4("198.18.0.1"))
                 + opt(56, b"lease gone") + b"\xff"),
    "release": frame(SERVER, CLIENT, None, "198.18.0.10", "198.18.0.1", 68,
                     67, 1, 0x11223344, 0, "198.18.0.10", "0.0.0.0",
                     "0.0.0.0", CLIENT,
                     opt(53, b"\x07") + opt(54, ip4("198.18.0.1"))
                     + opt(61, b"\x01" + mac(CLIENT)) + b"\xff"),
    "vlan_ack": frame("ff:ff:ff:ff:ff:ff", SERVER, 0xA064, "198.18.1.1",
                      "255.255.255.255", 67, 68, 2, 0xCAFEF00D, 0x8000,
                      "0.0.0.0", "198.18.1.20", "0.0.0.0",
                      "52:54:00:ab:cd:ef",
                      opt(53, b"\x05") + opt(54, ip4("198.18.1.1"))
                      + opt(51, b"\xff\xff\xff\xff")
                      + opt(1, ip4("255.255.255.0")) + opt(12, b"vm-1")
                      + b"\xff"),
    # Options continued in 'file' and 'sname' (option 52 = 3), hostname
    # split across the three fields (RFC 3396).
    "overload": frame(CLIENT, SERVER, None, "198.18.0.1", "198.18.0.10", 67,
                      68, 2, 7, 0, "0.0.0.0", "198.18.0.10", "198.18.0.1",
                      CLIENT,
                      opt(53, b"\x05") + opt(52, b"\x03") + opt(12, b"vm")
                      + b"\xff",
                      file=opt(51, struct.pack("!I", 60)) + opt(12, b"-ov")
                      + b"\xff",
                      sname=opt(54, ip4("198.18.0.1")) + opt(12, b"er")
                      + b"\xff"),
    "discover": frame("ff:ff:ff:ff:ff:ff", CLIENT, None, "0.0.0.0",
                      "255.255.255.255", 68, 67, 1, 1, 0x8000, "0.0.0.0",
                      "0.0.0.0", "0.0.0.0", CLIENT,
                      opt(53, b"\x01") + opt(61, b"\x01" + mac(CLIENT))
                      + opt(12, b"vm-1") + opt(55, b"\x01\x03\x06\x0f")
                      + b"\xff"),
    "request": frame("ff:ff:ff:ff:ff:ff", CLIENT, None, "0.0.0.0",
                     "255.255.255.255", 68, 67, 1, 1, 0, "0.0.0.0",
                     "0.0.0.0", "0.0.0.0", CLIENT,
                     opt(53, b"\x03") + opt(50, ip4("198.18.0.10"))
                     + opt(54, ip4("198.18.0.1")) + b"\xff"),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "corpus", "dhcp")
    os.makedirs(out, exist_ok=True)
    for name, (data, ic, uc) in sorted(GOLDEN.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
        print("%-9s len=%d ip_csum=0x%04x udp_csum=0x%04x"
              % (name, len(data), ic, uc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
