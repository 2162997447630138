#!/usr/bin/python3
"""Test-input surgery on checkpoints made by jepac-mkmodel / jepac-quantize.

    edit.py edge DIR          rewrite DIR/model.safetensors with quantization edge
                              cases (absent blocks, exact halves, Wanda ties, zero rows)
    edit.py rename DIR OUT    newer encoder names + "model." prefix
    edit.py dtype DIR KIND OUT.safetensors   KIND = F16 | BF16 | I8: DIR/exact.safetensors
                              (F32 values exactly representable in KIND) and OUT (KIND)
    edit.py old IN OUT        current-layout LQ40 -> older layout (no meta_tokens, no trailer)
    edit.py bad CASE DIR      writes DIR/CASE.{safetensors,bin,json}: one broken input
                              (cases: see BAD below), from DIR/model.safetensors,
                              DIR/config.json, DIR/q4-pred.bin, DIR/full.bin
"""
import json, struct, sys
import numpy as np

DT = {'F32': '<f4', 'F16': '<f2', 'BF16': None, 'I8': 'i1', 'I64': '<i8', 'F64': '<f8'}


def load_st(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in hdr.items():
        if k != '__metadata__':
            b, e = v['data_offsets']
            out[k] = [v['dtype'], v['shape'], data[b:e]]
    return out


def save_st(path, t, pad=True, hdr_extra=None):
    hdr, off, data = {}, 0, []
    for k in sorted(t):
        dt, shape, b = t[k]
        hdr[k] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(b)]}
        off += len(b)
        data.append(b)
    if hdr_extra:
        hdr_extra(hdr)
    js = json.dumps(hdr, separators=(',', ':')).encode()
    if pad:
        js += b' ' * (-len(js) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(js)) + js + b''.join(data))


def f32(t, k):
    return np.frombuffer(t[k][2], '<f4').reshape(t[k][1]).copy()


def put(t, k, a):
    t[k][2] = np.asarray(a, '<f4').tobytes()


def edge(d):
    p = d + '/model.safetensors'
    t = load_st(p)
    k = 'predictor.transformer.layers.0.adaLN_modulation.1.weight'
    w = f32(t, k)
    w[0] = 0                                            # absent blocks
    w[1, :8] = [7, 2.5, -2.5, 0.5, -0.5, 3.5, -3.5, 6.5]  # scale 1: exact halves
    w[1, 8:] = 0.25
    w[2] = np.where(np.arange(w.shape[1]) % 2, 1.0, -1.0)  # Wanda ties
    w[3, ::3] = 0                                       # zeros count toward k
    put(t, k, w)
    k = 'predictor.transformer.layers.1.mlp.net.4.weight'
    w = f32(t, k)
    w[:, 64:] = 0                                       # padded last block absent
    w[1] = 1e-40                                        # subnormal
    put(t, k, w)
    k = 'encoder.encoder.layer.0.attention.attention.query.weight'
    w = f32(t, k)
    w[0] = 0                                            # I8 scale 1.0
    w[1, :5] = [127, 0.5, -0.5, 1.5, -126.5]
    w[1, 5:] = 2.5
    put(t, k, w)
    save_st(p, t)


def rename(d, out):
    t = load_st(d + '/model.safetensors')
    m = {'attention.attention.query.': 'attention.q_proj.', 'attention.attention.key.': 'attention.k_proj.',
         'attention.attention.value.': 'attention.v_proj.', 'attention.output.dense.': 'attention.o_proj.',
         'intermediate.dense.': 'mlp.fc1.', 'output.dense.': 'mlp.fc2.',
         'layernorm_before.': 'layer_norm1.', 'layernorm_after.': 'layer_norm2.'}
    r = {}
    for k, v in t.items():
        n = k
        if k.startswith('encoder.encoder.layer.'):
            i, rest = k[len('encoder.encoder.layer.'):].split('.', 1)
            for a, b in m.items():
                if rest.startswith(a):
                    rest = b + rest[len(a):]
                    break
            n = 'encoder.layers.%s.%s' % (i, rest)
        r['model.' + n] = v
    save_st(out, r)


def dtype(d, kind, out):
    t = load_st(d + '/model.safetensors')
    exact, conv = {}, {}
    for k, (dt, shape, b) in t.items():
        if dt != 'F32':
            exact[k] = conv[k] = [dt, shape, b]
            continue
        a = np.frombuffer(b, '<f4')
        if kind == 'F16':
            h = a.astype('<f2')
            e = h.astype('<f4')
            c = h.tobytes()
        elif kind == 'BF16':
            u = a.view('<u4') & np.uint32(0xffff0000)
            e = u.view('<f4')
            c = (u >> 16).astype('<u2').tobytes()
        else:
            i = np.clip(np.round(a * 50), -128, 127).astype('i1')
            e = i.astype('<f4')
            c = i.tobytes()
        exact[k] = ['F32', shape, e.astype('<f4').tobytes()]
        conv[k] = [kind, shape, c]
    save_st(d + '/exact.safetensors', exact)
    save_st(out, conv)


def old(src, out):
    raw = open(src, 'rb').read()
    n = struct.unpack('<I', raw[4:8])[0]
    h = json.loads(raw[8:8 + n])
    del h['meta_tokens']
    js = json.dumps(h, sort_keys=True, separators=(',', ':')).encode()
    assert raw.endswith(struct.pack('<I', 0) * 7)
    open(out, 'wb').write(b'LQ40' + struct.pack('<I', len(js)) + js + raw[8 + n:-28])


# ---- the bad-input corpus --------------------------------------------------

def lq_parts(path):
    raw = bytearray(open(path, 'rb').read())
    n = struct.unpack('<I', raw[4:8])[0]
    return raw, json.loads(raw[8:8 + n]), 8 + n


def lq_rehdr(raw, body_at, h, out):
    js = json.dumps(h, sort_keys=True, separators=(',', ':')).encode()
    open(out, 'wb').write(b'LQ40' + struct.pack('<I', len(js)) + js + raw[body_at:])


def skip_f(raw, at, count):
    for _ in range(count):
        at += 4 + 4 * struct.unpack('<I', raw[at:at + 4])[0]
    return at


def first_q4(raw, h, at):
    """offset of the first predictor Q4 record (adaLN of layer 0), q4-pred mode"""
    return skip_f(raw, at, 4 + 16 * h['encoder_layers'] + 2 + 1)


def skip_q4(raw, at):
    tb, nz = struct.unpack('<II', raw[at + 8:at + 16])
    return at + 16 + (tb + 7) // 8 + 20 * nz


def heads(raw, h, q):
    """offset of the projector head record (u32 n_layers)"""
    for _ in range(h['predictor_layers']):
        for r in 'QFQQFFFFFQFQF':
            q = skip_q4(raw, q) if r == 'Q' else skip_f(raw, q, 1)
    return skip_f(raw, q, 2 + 6)


def bad(case, d):
    st, cfgp = d + '/model.safetensors', d + '/config.json'
    out = '%s/%s' % (d, case)
    if case.startswith('st-'):
        raw = bytearray(open(st, 'rb').read())
        n = struct.unpack('<Q', raw[:8])[0]
        t = load_st(st)
        o = out + '.safetensors'
        W = 'predictor.transformer.layers.1.mlp.net.1.weight'
        if case == 'st-short':
            open(o, 'wb').write(raw[:5])
        elif case == 'st-truncated':
            open(o, 'wb').write(raw[:len(raw) // 2])
        elif case == 'st-hlen-past-end':
            open(o, 'wb').write(struct.pack('<Q', 1 << 40) + raw[8:])
        elif case == 'st-hlen-absurd':
            open(o, 'wb').write(struct.pack('<Q', 1) + raw[8:])
        elif case == 'st-json':
            raw[8 + n // 2] = ord('}')
            open(o, 'wb').write(raw)
        elif case == 'st-span':
            save_st(o, t, hdr_extra=lambda h: h[W].__setitem__('shape', [80, 33]))
        elif case == 'st-offset-past-end':
            save_st(o, t, hdr_extra=lambda h: h[W].__setitem__('data_offsets', [1 << 30, (1 << 30) + 80 * 32 * 4]))
        elif case == 'st-overlap':
            def ov(h):
                b, e = h[W]['data_offsets']
                h[W]['data_offsets'] = [b - 4, e - 4]
            save_st(o, t, hdr_extra=ov)
        elif case == 'st-shape':
            t[W][1] = [32, 80]
            save_st(o, t)
        elif case == 'st-missing':
            del t['predictor.transformer.norm.bias']
            save_st(o, t)
        elif case == 'st-extra':
            t['predictor.transformer.extra.weight'] = ['F32', [2], b'\0' * 8]
            save_st(o, t)
        elif case in ('st-nan', 'st-inf'):
            a = f32(t, W)
            a[3, 5] = np.nan if case == 'st-nan' else -np.inf
            put(t, W, a)
            save_st(o, t)
        elif case == 'st-dtype':
            t[W] = ['F64', t[W][1], t[W][2] * 2]
            save_st(o, t)
        elif case == 'st-dtype-nl':
            t[W] = ['F\n32', t[W][1], t[W][2]]
            save_st(o, t)
        elif case == 'st-tiny':
            # a nearly empty file: one small tensor (beside cfg-huge.json)
            k = 'action_encoder.patch_embed.bias'
            save_st(o, {k: t[k]})
        elif case == 'st-name-ctrl':
            t['action_encoder.embed.0.weigh\n'] = t.pop('action_encoder.embed.0.weight')
            save_st(o, t)
        elif case == 'st-i64':
            t[W] = ['I64', t[W][1], t[W][2] * 2]
            save_st(o, t)
        elif case == 'st-trailing':
            open(o, 'wb').write(raw + b'\0' * 8)
        elif case == 'st-duplicate':
            t['model.' + W] = t[W]
            save_st(o, t)
        else:
            sys.exit('unknown case ' + case)
    elif case.startswith('cfg-'):
        c = json.load(open(cfgp))
        o = out + '.json'
        if case == 'cfg-json':
            open(o, 'w').write(json.dumps(c)[:-3])
            return
        if case == 'cfg-missing':
            del c['predictor']['heads']
        elif case == 'cfg-size':
            c['encoder']['size'] = 'huge'
        elif case == 'cfg-size-nl':
            c['encoder']['size'] = 'ti\nny'
        elif case == 'cfg-huge':
            # the largest layer counts config.json accepts (10^7 each)
            c['encoder']['num_hidden_layers'] = 10000000
            c['predictor']['depth'] = 10000000
        elif case == 'cfg-depth':
            c['predictor']['depth'] = 3
        elif case == 'cfg-float':
            c['predictor']['heads'] = 2.5
        elif case == 'cfg-part':
            del c['pred_proj']
        elif case == 'cfg-dims':
            c['projector']['input_dim'] = 31
        else:
            sys.exit('unknown case ' + case)
        open(o, 'w').write(json.dumps(c))
    else:
        src = d + ('/full.bin' if case.startswith('lq-i8') else '/q4-pred.bin')
        raw, h, at = lq_parts(src)
        o = out + '.bin'
        q = first_q4(raw, h, at) if h['mode'] == 'q4-pred' else 0
        if case == 'lq-truncated':
            open(o, 'wb').write(raw[:len(raw) - 100])
        elif case == 'lq-truncated-block':
            open(o, 'wb').write(raw[:q + 16 + 30 + 10])
        elif case == 'lq-json-len':
            raw[4:8] = struct.pack('<I', 1 << 30)
            open(o, 'wb').write(raw)
        elif case == 'lq-json':
            raw[at - 1] = ord(',')
            open(o, 'wb').write(raw)
        elif case == 'lq-missing-key':
            del h['predictor_heads']
            lq_rehdr(raw, at, h, o)
        elif case == 'lq-mode':
            h['mode'] = 'q3-pred'
            lq_rehdr(raw, at, h, o)
        elif case == 'lq-mode-nl':
            h['mode'] = 'q4\npred'
            lq_rehdr(raw, at, h, o)
        elif case == 'lq-dims':
            h['encoder_inter'] += 1
            lq_rehdr(raw, at, h, o)
        elif case == 'lq-count':
            raw[at:at + 4] = struct.pack('<I', 1 << 28)
            open(o, 'wb').write(raw)
        elif case == 'lq-nz':
            nz = struct.unpack('<I', raw[q + 12:q + 16])[0]
            raw[q + 12:q + 16] = struct.pack('<I', nz - 1)
            open(o, 'wb').write(raw)
        elif case == 'lq-total':
            raw[q + 8:q + 12] = struct.pack('<I', 7)
            open(o, 'wb').write(raw)
        elif case == 'lq-shape':
            raw[q:q + 4] = struct.pack('<I', 191)
            open(o, 'wb').write(raw)
        elif case == 'lq-nan-scale':
            nb = (struct.unpack('<I', raw[q + 8:q + 12])[0] + 7) // 8
            raw[q + 16 + nb:q + 20 + nb] = struct.pack('<f', float('nan'))
            open(o, 'wb').write(raw)
        elif case == 'lq-inf-weight':
            raw[at + 4 + 8:at + 8 + 8] = struct.pack('<f', float('inf'))
            open(o, 'wb').write(raw)
        elif case == 'lq-trailing':
            open(o, 'wb').write(raw + b'\0' * 3)
        elif case == 'lq-old-trailer':
            del h['meta_tokens']
            lq_rehdr(raw, at, h, o)
        elif case == 'lq-head-layers':
            p = heads(raw, h, q)
            raw[p:p + 4] = struct.pack('<I', 2)
            open(o, 'wb').write(raw)
        elif case == 'lq-i8-nw':
            i8 = skip_f(raw, at, 4 + 2)
            raw[i8 + 8:i8 + 12] = struct.pack('<I', 5)
            open(o, 'wb').write(raw)
        else:
            sys.exit('unknown case ' + case)


cmd = sys.argv[1]
if cmd == 'edge':
    edge(sys.argv[2])
elif cmd == 'rename':
    rename(sys.argv[2], sys.argv[3])
elif cmd == 'dtype':
    dtype(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == 'old':
    old(sys.argv[2], sys.argv[3])
elif cmd == 'bad':
    bad(sys.argv[2], sys.argv[3])
else:
    sys.exit(__doc__)
