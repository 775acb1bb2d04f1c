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
PACKET_OUTGOING = 4
MAGIC = 0x4d4e5452


def main():
    iface, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    f = open(out, 'w', buffering=1)
    counts = {'frames': 0, 'probes': 0, 'other': 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    if len(sys.argv) > 3:
        open(sys.argv[3], 'w').close()
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
        counts['frames'] += 1
        probe = None
        if len(data) >= 82 and data[12:14] == b'\x08\x00' and data[23] == 17:
            off = 14 + (data[14] & 0x0f) * 4 + 8
            p = data[off:off + 40]
            if len(p) == 40:
                magic, ver, kind = struct.unpack('!IBB', p[:6])
                if magic == MAGIC and ver == 1 and kind <= 1:
                    sender, _rate, seq = struct.unpack('!IIQ', p[8:24])
                    probe = (sender, seq, kind)
        if probe:
            counts['probes'] += 1
            f.write('%d %d %d\n' % probe)
        else:
            counts['other'] += 1
    f.write('# frames %(frames)d probes %(probes)d other %(other)d\n'
            % counts)
    f.close()
    os._exit(0)


if __name__ == '__main__':
    main()
