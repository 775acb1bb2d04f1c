# lime_tap.py: a frame counter inside a VM namespace of the LIME test (the
# "tap" or mirror VM).  It never sends.  It reads every frame arriving on
# the interface (AF_PACKET, so frames for other MACs count too) and writes
# one line per mignet-traffic probe, "SENDER SEQ KIND" (KIND 0 data, 1
# end), plus a final "# frames N probes P other O" line at SIGTERM/SIGINT.
# Usage: /usr/bin/python3 lime_tap.py IFACE OUTFILE [READY_FILE]
import os
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_HOST = 0
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
RCVBUF = 16 << 20
MAGIC = 0x4d4e5452
VXLAN_PORT = 4789


def udp_payload(frame):
    """The UDP payload of an IPv4 frame (no VLAN tag), or None."""
    if len(frame) < 42 or frame[12:14] != b'\x08\x00' or frame[23] != 17:
        return None, None
    off = 14 + (frame[14] & 0x0f) * 4
    if len(frame) < off + 8:
        return None, None
    return struct.unpack('!H', frame[off + 2:off + 4])[0], frame[off + 8:]


def probe_of(frame):
    """(sender, seq, kind) of a mignet-traffic probe frame, or None."""
    _dport, p = udp_payload(frame)
    if p is None or len(p) < 40:
        return None
    magic, ver, kind = struct.unpack('!IBB', p[:6])
    if magic != MAGIC or ver != 1 or kind > 1:
        return None
    sender, _rate, seq = struct.unpack('!IIQ', p[8:24])
    return (sender, seq, kind)


def vxlan_probe_of(frame):
    """The probe inside a VXLAN frame (8-byte VXLAN header), or None."""
    dport, p = udp_payload(frame)
    if dport != VXLAN_PORT or p is None or len(p) < 8:
        return None
    return probe_of(p[8:])


def main():
    args = sys.argv[1:]
    parse = probe_of
    host_only = False
    if args and args[0] == '--vxlan':
        parse = vxlan_probe_of
        host_only = True
        args = args[1:]
    iface, out = args[0], args[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((iface, 0))
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # zeroes the counts
    s.settimeout(0.2)
    f = open(out, 'w', buffering=1)
    counts = {'frames': 0, 'probes': 0, 'other': 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    if len(args) > 2:
        open(args[2], 'w').close()
    while not stop:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        except OSError:
            # ENETDOWN while the VM is paused (its link down): wait.
            time.sleep(0.01)
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        if host_only and addr[2] != PACKET_HOST:
            continue
        counts['frames'] += 1
        probe = parse(data)
        if probe:
            counts['probes'] += 1
            f.write('%d %d %d\n' % probe)
        else:
            counts['other'] += 1
    _packets, counts['drops'] = struct.unpack(
        'II', s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    f.write('# frames %(frames)d probes %(probes)d other %(other)d'
            ' drops %(drops)d\n' % counts)
    f.close()
    os._exit(0)


if __name__ == '__main__':
    main()
