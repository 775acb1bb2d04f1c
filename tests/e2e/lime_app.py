# lime_app.py: the tenant controller of the LIME tests (issue 14), an
# os-ken (OpenStack's Ryu fork, Debian python3-os-ken) OpenFlow 1.3 app of
# our own -- Debian ships no sample apps.  It is a learning switch with a
# mirror port, an event log and a statistics poller, and it takes commands
# from the test through a directory.  It knows nothing of mignet: it sees
# one switch, straight Open vSwitch or mignet's virtual switch alike.
#
# Run (with Debian's interpreter, which has os_ken):
#   LIME_LOG=events.jsonl LIME_CTL=ctl/ [LIME_MIRRORS=5,6] \
#   /usr/bin/python3 -m os_ken.cmd.manager --ofp-listen-host 127.0.0.1 \
#       --ofp-tcp-listen-port PORT tests/e2e/lime_app.py
#
# Behaviour, per datapath (keyed by dpid):
# - On connect: deletes every flow of table 0 (a fresh controller starts
#   from an empty table), installs the table-miss flow (priority 0, empty
#   match, output CONTROLLER with max_len NO_BUFFER: the whole frame).
# - Packet-in: learns eth_src -> in_port.  Destination known: installs
#   `priority 10, in_port, eth_src, eth_dst -> output:DST, output:MIRROR`
#   (MIRROR = the current generation's mirror port, LIME_MIRRORS[gen], when
#   set; cookie = LIME_COOKIE_BASE + gen) and sends the frame out to DST
#   only; unknown: packet-out FLOOD.  Packet-outs never go to the mirror, so
#   a mirror copy always comes from a flow of one generation (the tag).
# - Every LIME_POLL_MS (default 500) ms: a FLOW and a PORT_STATS multipart.
# - Commands: a file CTL/cmd.N holding one line; the app acts on it and
#   writes CTL/done.N (a JSON object) once finished:
#     flip          generation + 1: MODIFY_STRICT every learned flow to the
#                   new mirror (cookie unchanged: the flow keeps its counters
#                   in OpenFlow), then BARRIER; done at the barrier reply.
#     flip-bad      a wrong update for the checker's self-test: delete
#                   and re-add every learned flow with no mirror.
#     stats         one FLOW + PORT_STATS poll marked final; done once both
#                   replies are in.
#     bench N       N times in sequence: an ADD flow-mod (priority 5, a
#                   match no frame of the test has) and a BARRIER, timing
#                   flow-mod sent -> barrier reply; done with p50/p99 (ms).
#                   Then a DELETE of those flows (+ barrier).
#     install N     N flows (priority 4, eth_dst 0a:00:xx:xx:xx:xx, output
#                   to the first VM port) + BARRIER; done at the reply.
#     uninstall     delete the flows of 'install' + BARRIER.
#     clear         delete every flow (the table-miss too) + BARRIER, so
#                   that another controller starts from an empty table.
#
# Log: one JSON object per line (LIME_LOG), each with "ev", "t" (wall-clock
# ms) and "dpid":
#   hello     {ports: [...]}              the switch connected (port desc)
#   packet_in {in_port, eth_src, eth_dst, hash (sha1 of the data, 16 hex),
#              len, total_len, reason, table, cookie, probe: {sender, seq,
#              end} when the data is a mignet-traffic probe}
#   packet_out {in_port, out ("FLOOD" or a port), hash}
#   flow_add  {in_port, eth_src, eth_dst, out: [ports], cookie}
#   error     {type, code, data (hex, 64 bytes at most)}
#   flow_removed {cookie, priority, reason, match, packets, bytes}
#   flow_stats {seq, final, flows: [{table, priority, cookie, match,
#              packets, bytes}]}
#   port_stats {seq, final, ports: [{port, rx, tx, rx_bytes, tx_bytes}]}
#   flip / flip_done / bench / install ... the commands
# The app counts its own packet-outs (ev "packet_out"): the test adds them
# to the switch's port tx when it checks counters.
import hashlib
import json
import os
import struct
import time

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib import hub
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

PROBE_MAGIC = 0x4d4e5452  # mignet-traffic's "MNTR" (src/lib/traffic.h)
PROBE_LEN = 40
LEARN_PRIO = 10
BENCH_PRIO = 5
INSTALL_PRIO = 4
BENCH_COOKIE = 0xbe00000000000000
INSTALL_COOKIE = 0x1a00000000000000


def now_ms():
    return int(time.time() * 1000)


def parse_probe(data):
    """The mignet-traffic probe in an Ethernet/IPv4/UDP frame, or None."""
    if len(data) < 14 + 20 + 8 + PROBE_LEN:
        return None
    if data[12:14] != b'\x08\x00':
        return None
    ihl = (data[14] & 0x0f) * 4
    if data[14 + 9] != 17 or ihl < 20:
        return None
    off = 14 + ihl + 8
    p = data[off:off + PROBE_LEN]
    if len(p) < PROBE_LEN:
        return None
    magic, ver, kind = struct.unpack('!IBB', p[:6])
    if magic != PROBE_MAGIC or ver != 1 or kind > 1:
        return None
    sender, _rate, seq = struct.unpack('!IIQ', p[8:24])
    return {'sender': sender, 'seq': seq, 'end': kind == 1}


def match_str(match):
    """A stable text of an OFPMatch (its fields sorted)."""
    try:
        items = sorted((k, str(v)) for k, v in match.items())
    except Exception:  # pragma: no cover - os-ken version differences
        items = [('raw', str(match))]
    return ','.join('%s=%s' % kv for kv in items)


class LimeApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_path = os.environ.get('LIME_LOG', 'lime-events.jsonl')
        self.ctl = os.environ.get('LIME_CTL', '')
        m = os.environ.get('LIME_MIRRORS', '')
        self.mirrors = [int(x) for x in m.split(',') if x.strip()]
        self.poll_s = int(os.environ.get('LIME_POLL_MS', '500')) / 1000.0
        self.cookie_base = int(os.environ.get('LIME_COOKIE_BASE', '0x100'),
                               0)
        self.logf = open(self.log_path, 'a', buffering=1)
        self.dps = {}        # dpid -> datapath
        self.ports = {}      # dpid -> [port numbers] (port desc)
        self.macs = {}       # dpid -> {mac: port}
        self.learned = {}    # dpid -> {(in_port, src, dst): out_port}
        self.gen = 0
        self.poll_seq = 0
        self.pending = {}    # xid -> (kind, data)
        self.final_wait = {}  # poll seq -> (cmd id, set of kinds left)
        self.bench = None
        self.n_packet_out = 0
        self.done_cmds = set()
        hub.spawn(self._poller)
        if self.ctl:
            hub.spawn(self._commands)
        self.log({'ev': 'start', 'mirrors': self.mirrors})

    # ---- log ----
    def log(self, obj):
        obj.setdefault('t', now_ms())
        self.logf.write(json.dumps(obj, sort_keys=True) + '\n')

    def done(self, cid, obj):
        if not self.ctl or cid is None:
            return
        path = os.path.join(self.ctl, 'done.%s' % cid)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(json.dumps(obj, sort_keys=True) + '\n')
        os.rename(tmp, path)

    # ---- switch set-up ----
    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.dps[dp.id] = dp
        self.macs[dp.id] = {}
        self.learned[dp.id] = {}
        dp.send_msg(parser.OFPFlowMod(
            dp, table_id=0, command=ofp.OFPFC_DELETE,
            out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
            match=parser.OFPMatch()))
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                          ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions, cookie=0)
        dp.send_msg(parser.OFPPortDescStatsRequest(dp, 0))
        self.log({'ev': 'features', 'dpid': dp.id,
                  'n_buffers': ev.msg.n_buffers,
                  'n_tables': ev.msg.n_tables})

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def port_desc(self, ev):
        dp = ev.msg.datapath
        ports = sorted(p.port_no for p in ev.msg.body)
        self.ports[dp.id] = ports
        self.log({'ev': 'hello', 'dpid': dp.id, 'ports': ports,
                  'names': {str(p.port_no): p.name.decode(errors='replace')
                            for p in ev.msg.body}})

    def add_flow(self, dp, prio, match, actions, cookie, command=None):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                             actions)]
        dp.send_msg(parser.OFPFlowMod(
            dp, cookie=cookie, table_id=0, priority=prio, match=match,
            instructions=inst,
            command=ofp.OFPFC_ADD if command is None else command,
            buffer_id=ofp.OFP_NO_BUFFER))

    def learn_actions(self, dp, out):
        parser = dp.ofproto_parser
        outs = [out]
        if self.mirrors:
            mp = self.mirrors[self.gen % len(self.mirrors)]
            if mp != out:
                outs.append(mp)
        return outs, [parser.OFPActionOutput(p) for p in outs]

    # ---- packet-in ----
    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match['in_port']
        data = bytes(msg.data)
        eth = packet.Packet(data).get_protocol(ethernet.ethernet)
        h = hashlib.sha1(data).hexdigest()[:16]
        rec = {'ev': 'packet_in', 'dpid': dp.id, 'in_port': in_port,
               'eth_src': eth.src if eth else None,
               'eth_dst': eth.dst if eth else None, 'hash': h,
               'len': len(data), 'total_len': msg.total_len,
               'reason': msg.reason, 'table': msg.table_id,
               'cookie': msg.cookie, 'buffer_id': msg.buffer_id}
        probe = parse_probe(data)
        if probe:
            rec['probe'] = probe
        self.log(rec)
        if eth is None:
            return
        macs = self.macs.setdefault(dp.id, {})
        macs[eth.src] = in_port
        out = macs.get(eth.dst)
        if out is not None and out != in_port:
            key = (in_port, eth.src, eth.dst)
            outs, actions = self.learn_actions(dp, out)
            cookie = self.cookie_base + self.gen
            self.learned[dp.id][key] = out
            self.add_flow(dp, LEARN_PRIO,
                          parser.OFPMatch(in_port=in_port, eth_src=eth.src,
                                          eth_dst=eth.dst),
                          actions, cookie=cookie)
            self.log({'ev': 'flow_add', 'dpid': dp.id, 'in_port': in_port,
                      'eth_src': eth.src, 'eth_dst': eth.dst, 'out': outs,
                      'cookie': cookie, 'gen': self.gen})
            po_out = out
        else:
            po_out = ofp.OFPP_FLOOD
        dp.send_msg(parser.OFPPacketOut(
            dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port,
            actions=[parser.OFPActionOutput(po_out)], data=data))
        self.n_packet_out += 1
        self.log({'ev': 'packet_out', 'dpid': dp.id, 'in_port': in_port,
                  'out': 'FLOOD' if po_out == ofp.OFPP_FLOOD else po_out,
                  'hash': h, 'n': self.n_packet_out})

    # ---- errors, removals, barriers ----
    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error(self, ev):
        msg = ev.msg
        self.log({'ev': 'error', 'dpid': msg.datapath.id, 'type': msg.type,
                  'code': msg.code, 'data': bytes(msg.data)[:64].hex()})

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed(self, ev):
        msg = ev.msg
        self.log({'ev': 'flow_removed', 'dpid': msg.datapath.id,
                  'cookie': msg.cookie, 'priority': msg.priority,
                  'reason': msg.reason, 'match': match_str(msg.match),
                  'packets': msg.packet_count, 'bytes': msg.byte_count})

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier_reply(self, ev):
        xid = ev.msg.xid
        t = time.monotonic()
        kind = self.pending.pop(xid, None)
        if kind is None:
            return
        what, info = kind
        if what == 'flip':
            ms = (t - info['t0']) * 1000
            self.log({'ev': 'flip_done', 'gen': self.gen,
                      'ms': round(ms, 3)})
            self.done(info['cid'], {'gen': self.gen, 'ms': round(ms, 3),
                                    'flows': info['n']})
        elif what == 'bench':
            self.bench_step(ev.msg.datapath, t)
        elif what in ('install', 'uninstall', 'bench_del', 'clear'):
            ms = (t - info['t0']) * 1000
            self.log({'ev': what + '_done', 'ms': round(ms, 3),
                      'n': info.get('n', 0)})
            out = {'ms': round(ms, 3), 'n': info.get('n', 0)}
            out.update(info.get('extra', {}))
            self.done(info['cid'], out)

    def barrier(self, dp, what, info):
        req = dp.ofproto_parser.OFPBarrierRequest(dp)
        dp.set_xid(req)
        self.pending[req.xid] = (what, info)
        dp.send_msg(req)

    # ---- statistics ----
    def _poller(self):
        while True:
            hub.sleep(self.poll_s)
            self.poll(False)

    def poll(self, final, cid=None):
        self.poll_seq += 1
        seq = self.poll_seq
        if final:
            self.final_wait[seq] = (cid, {'flow', 'port'} if self.dps
                                    else set())
            if not self.dps:
                self.done(cid, {'seq': seq, 'dpids': []})
        for dp in list(self.dps.values()):
            ofp, parser = dp.ofproto, dp.ofproto_parser
            r = parser.OFPFlowStatsRequest(dp, 0, ofp.OFPTT_ALL,
                                           ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0,
                                           parser.OFPMatch())
            dp.set_xid(r)
            self.pending[r.xid] = ('flow', {'seq': seq, 'final': final,
                                            'acc': []})
            dp.send_msg(r)
            r = parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY)
            dp.set_xid(r)
            self.pending[r.xid] = ('port', {'seq': seq, 'final': final,
                                            'acc': []})
            dp.send_msg(r)

    def _stats_part(self, ev, kind):
        msg = ev.msg
        p = self.pending.get(msg.xid)
        if p is None or p[0] != kind:
            return None
        info = p[1]
        info['acc'].extend(msg.body)
        if msg.flags & msg.datapath.ofproto.OFPMPF_REPLY_MORE:
            return None
        del self.pending[msg.xid]
        return info

    def _final_part(self, seq, kind):
        w = self.final_wait.get(seq)
        if w is None:
            return
        w[1].discard(kind)
        if not w[1]:
            del self.final_wait[seq]
            self.done(w[0], {'seq': seq})

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def flow_stats(self, ev):
        info = self._stats_part(ev, 'flow')
        if info is None:
            return
        flows = [{'table': s.table_id, 'priority': s.priority,
                  'cookie': s.cookie, 'match': match_str(s.match),
                  'packets': s.packet_count, 'bytes': s.byte_count,
                  'n_out': sum(1 for i in s.instructions
                               for a in getattr(i, 'actions', [])
                               if getattr(a, 'port', None) is not None
                               and a.port < 0xffffff00)}
                 for s in info['acc']]
        self.log({'ev': 'flow_stats', 'dpid': ev.msg.datapath.id,
                  'seq': info['seq'], 'final': info['final'],
                  'flows': flows})
        if info['final']:
            self._final_part(info['seq'], 'flow')

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    def port_stats(self, ev):
        info = self._stats_part(ev, 'port')
        if info is None:
            return
        ports = [{'port': s.port_no, 'rx': s.rx_packets, 'tx': s.tx_packets,
                  'rx_bytes': s.rx_bytes, 'tx_bytes': s.tx_bytes}
                 for s in info['acc']]
        self.log({'ev': 'port_stats', 'dpid': ev.msg.datapath.id,
                  'seq': info['seq'], 'final': info['final'],
                  'ports': ports})
        if info['final']:
            self._final_part(info['seq'], 'port')

    # ---- commands from the test ----
    def _commands(self):
        while True:
            hub.sleep(0.02)
            try:
                names = os.listdir(self.ctl)
            except OSError:
                continue
            for n in sorted(names):
                if not n.startswith('cmd.') or n.endswith('.tmp'):
                    continue
                cid = n[4:]
                if cid in self.done_cmds:
                    continue
                self.done_cmds.add(cid)
                try:
                    with open(os.path.join(self.ctl, n)) as f:
                        words = f.read().split()
                except OSError:
                    continue
                self.log({'ev': 'command', 'cid': cid, 'cmd': words})
                try:
                    self.command(cid, words)
                except Exception as e:  # a bad command must not kill us
                    self.log({'ev': 'command_error', 'cid': cid,
                              'error': repr(e)})
                    self.done(cid, {'error': repr(e)})

    def command(self, cid, words):
        if not words:
            self.done(cid, {'error': 'empty'})
            return
        cmd = words[0]
        if cmd == 'stats':
            self.poll(True, cid)
        elif cmd == 'flip':
            self.flip(cid)
        elif cmd == 'flip-bad':
            self.flip_bad(cid)
        elif cmd == 'bench':
            self.bench_start(cid, int(words[1]))
        elif cmd == 'install':
            self.install(cid, int(words[1]))
        elif cmd == 'uninstall':
            self.uninstall(cid)
        elif cmd == 'clear':
            self.clear(cid)
        else:
            self.done(cid, {'error': 'unknown command %s' % cmd})

    def flip(self, cid):
        self.gen += 1
        t0 = time.monotonic()
        n = 0
        for dpid, dp in self.dps.items():
            parser = dp.ofproto_parser
            for (in_port, src, dst), out in self.learned[dpid].items():
                outs, actions = self.learn_actions(dp, out)
                self.add_flow(dp, LEARN_PRIO,
                              parser.OFPMatch(in_port=in_port, eth_src=src,
                                              eth_dst=dst),
                              actions, cookie=0,
                              command=dp.ofproto.OFPFC_MODIFY_STRICT)
                n += 1
            self.log({'ev': 'flip', 'dpid': dpid, 'gen': self.gen, 'n': n})
            self.barrier(dp, 'flip', {'cid': cid, 't0': t0, 'n': n})
        if not self.dps:
            self.done(cid, {'error': 'no switch'})

    def flip_bad(self, cid):
        """A deliberately wrong update, for the checker's self-test: each
        learned flow deleted and added again without any mirror (counters
        restart from 0: a regression; probes reach no tap: 'neither')."""
        self.gen += 1
        t0 = time.monotonic()
        n = 0
        for dpid, dp in self.dps.items():
            ofp, parser = dp.ofproto, dp.ofproto_parser
            for (in_port, src, dst), out in self.learned[dpid].items():
                m = parser.OFPMatch(in_port=in_port, eth_src=src, eth_dst=dst)
                dp.send_msg(parser.OFPFlowMod(
                    dp, table_id=0, command=ofp.OFPFC_DELETE_STRICT,
                    priority=LEARN_PRIO, out_port=ofp.OFPP_ANY,
                    out_group=ofp.OFPG_ANY, match=m))
                self.add_flow(dp, LEARN_PRIO, m,
                              [parser.OFPActionOutput(out)],
                              cookie=self.cookie_base + self.gen)
                n += 1
            self.log({'ev': 'flip', 'dpid': dpid, 'gen': self.gen, 'n': n,
                      'bad': True})
            self.barrier(dp, 'flip', {'cid': cid, 't0': t0, 'n': n})

    def _one_dp(self, cid):
        if len(self.dps) != 1:
            self.done(cid, {'error': '%d switches' % len(self.dps)})
            return None
        return next(iter(self.dps.values()))

    def _bench_flow(self, dp, i, command=None):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        port = self._first_port(dp)
        match = parser.OFPMatch(eth_dst='0e:00:00:%02x:%02x:%02x'
                                % ((i >> 16) & 0xff, (i >> 8) & 0xff,
                                   i & 0xff))
        self.add_flow(dp, BENCH_PRIO, match,
                      [parser.OFPActionOutput(port)], cookie=BENCH_COOKIE,
                      command=command)

    def _first_port(self, dp):
        ports = [p for p in self.ports.get(dp.id, [])
                 if p < dp.ofproto.OFPP_MAX]
        return ports[0] if ports else 1

    def bench_start(self, cid, n):
        dp = self._one_dp(cid)
        if dp is None:
            return
        self.bench = {'cid': cid, 'n': n, 'i': 0, 'lat': [], 't0': 0.0}
        self.bench_send(dp)

    def bench_send(self, dp):
        b = self.bench
        b['t0'] = time.monotonic()
        self._bench_flow(dp, b['i'])
        self.barrier(dp, 'bench', {})

    def bench_step(self, dp, t):
        b = self.bench
        b['lat'].append((t - b['t0']) * 1000)
        b['i'] += 1
        if b['i'] < b['n']:
            self.bench_send(dp)
            return
        lat = sorted(b['lat'])

        def pct(q):
            return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)
        res = {'n': len(lat), 'p50_ms': pct(0.50), 'p99_ms': pct(0.99),
               'max_ms': round(lat[-1], 3)}
        self.log(dict(ev='bench', **res))
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPFlowMod(
            dp, cookie=BENCH_COOKIE, cookie_mask=0xffffffffffffffff,
            table_id=0, command=ofp.OFPFC_DELETE, out_port=ofp.OFPP_ANY,
            out_group=ofp.OFPG_ANY, match=parser.OFPMatch()))
        self.barrier(dp, 'bench_del', {'cid': b['cid'],
                                       't0': time.monotonic(), 'n': 0,
                                       'extra': res})

    def install(self, cid, n):
        dp = self._one_dp(cid)
        if dp is None:
            return
        ofp, parser = dp.ofproto, dp.ofproto_parser
        port = self._first_port(dp)
        t0 = time.monotonic()
        for i in range(n):
            match = parser.OFPMatch(eth_dst='0a:00:00:%02x:%02x:%02x'
                                    % ((i >> 16) & 0xff, (i >> 8) & 0xff,
                                       i & 0xff))
            self.add_flow(dp, INSTALL_PRIO, match,
                          [parser.OFPActionOutput(port)],
                          cookie=INSTALL_COOKIE)
        self.barrier(dp, 'install', {'cid': cid, 't0': t0, 'n': n})

    def clear(self, cid):
        dp = self._one_dp(cid)
        if dp is None:
            return
        ofp, parser = dp.ofproto, dp.ofproto_parser
        dp.send_msg(parser.OFPFlowMod(
            dp, table_id=0, command=ofp.OFPFC_DELETE, out_port=ofp.OFPP_ANY,
            out_group=ofp.OFPG_ANY, match=parser.OFPMatch()))
        self.learned[dp.id] = {}
        self.macs[dp.id] = {}
        self.barrier(dp, 'clear', {'cid': cid, 't0': time.monotonic(),
                                   'n': 0})

    def uninstall(self, cid):
        dp = self._one_dp(cid)
        if dp is None:
            return
        ofp, parser = dp.ofproto, dp.ofproto_parser
        t0 = time.monotonic()
        dp.send_msg(parser.OFPFlowMod(
            dp, cookie=INSTALL_COOKIE, cookie_mask=0xffffffffffffffff,
            table_id=0, command=ofp.OFPFC_DELETE, out_port=ofp.OFPP_ANY,
            out_group=ofp.OFPG_ANY, match=parser.OFPMatch()))
        self.barrier(dp, 'uninstall', {'cid': cid, 't0': t0, 'n': 0})
