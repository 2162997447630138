#!/usr/bin/python3
"""Independent LQ40 writer (numpy) used to check jepac-quantize byte for byte.

    lqref.py --mode=MODE MODEL.safetensors CONFIG.json OUT.bin

Implements docs/lq40.md directly from a float safetensors
checkpoint: its own safetensors parser, its own quantization rules in f32
(round half away from zero, f32 reciprocal), Wanda pruning with a stable
argsort, the current layout (alphabetical compact JSON, trailer).  Shares no
code with jepac, so equal bytes mean both follow the spec.
"""
import json, struct, sys
import numpy as np

F32 = np.float32


def load_st(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in hdr.items():
        if k == '__metadata__' or v['dtype'] != 'F32':
            continue
        b, e = v['data_offsets']
        out[k.removeprefix('model.')] = np.frombuffer(data[b:e], '<f4').reshape(v['shape']).copy()
    return out


def rnd(x):
    """round half away from zero of f32 values, exactly"""
    x = x.astype(np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def q4(w):
    out, inn = w.shape
    nb = (inn + 31) // 32
    pad = np.zeros((out, nb * 32), F32)
    pad[:, :inn] = w
    blk = pad.reshape(out * nb, 32)
    scale = (np.abs(blk).max(axis=1) / F32(7)).astype(F32)
    present = scale != 0
    inv = np.where(present, F32(1) / np.where(present, scale, F32(1)), F32(0)).astype(F32)
    q = np.clip(rnd((blk * inv[:, None]).astype(F32)), -8, 7).astype(np.int64)
    bits = np.packbits(present.astype(np.uint8), bitorder='little')
    b = struct.pack('<IIII', out, inn, out * nb, int(present.sum())) + bits.tobytes()
    nib = (q + 8).astype(np.uint8)
    packed = nib[:, 0::2] | (nib[:, 1::2] << 4)
    parts = []
    for i in np.nonzero(present)[0]:
        parts.append(scale[i].astype('<f4').tobytes() + packed[i].tobytes())
    return b + b''.join(parts)


def i8(w):
    out, inn = w.shape
    scale = (np.abs(w).max(axis=1) / F32(127)).astype(F32)
    scale[scale == 0] = F32(1)
    inv = (F32(1) / scale).astype(F32)
    q = np.clip(rnd((w * inv[:, None]).astype(F32)), -128, 127).astype(np.int8)
    return (struct.pack('<III', out, inn, out * inn) + q.T.tobytes() +
            struct.pack('<I', out) + scale.astype('<f4').tobytes())


def wanda(w, s):
    w = w.copy()
    k = int(F32(w.shape[1]) * F32(s))
    for r in range(w.shape[0]):
        idx = np.argsort(np.abs(w[r]), kind='stable')[:k]
        w[r, idx] = 0
    return w


def frec(t):
    if t is None:
        return struct.pack('<I', 0)
    t = np.asarray(t, F32).ravel()
    return struct.pack('<I', t.size) + t.astype('<f4').tobytes()


def main():
    mode = sys.argv[1].split('=', 1)[1]
    t = load_st(sys.argv[2])
    cfg = json.load(open(sys.argv[3]))
    enc, pred, act = cfg['encoder'], cfg['predictor'], cfg['action_encoder']
    sizes = {'tiny': (192, 12, 3, 768), 'small': (384, 12, 6, 1536), 'base': (768, 12, 12, 3072)}
    eh, el, ea, ei = sizes.get(enc.get('size'), (0, 0, 0, 0))
    eh = enc.get('hidden_size', eh); el = enc.get('num_hidden_layers', el)
    ea = enc.get('num_attention_heads', ea); ei = enc.get('intermediate_size', ei)
    sp = {'wanda20-q4': 0.2, 'wanda40-q4': 0.4}.get(mode, 0)
    hdr = {'action_dim': t['action_encoder.patch_embed.weight'].shape[0],
           'channels': t['encoder.embeddings.patch_embeddings.projection.weight'].shape[1],
           'encoder_heads': ea, 'encoder_hidden': eh, 'encoder_inter': ei, 'encoder_layers': el,
           'image_size': enc['image_size'], 'latent_dim': cfg['projector']['output_dim'],
           'meta_tokens': 0, 'mode': mode, 'patch_size': enc['patch_size'],
           'predictor_heads': pred['heads'], 'predictor_hidden': pred['hidden_dim'],
           'predictor_inner_dim': pred['heads'] * pred['dim_head'],
           'predictor_inter': pred['mlp_dim'], 'predictor_layers': pred['depth']}
    js = json.dumps(hdr, sort_keys=True, separators=(',', ':')).encode()
    o = [b'LQ40', struct.pack('<I', len(js)), js]
    e = 'encoder.embeddings.'
    for k in ('patch_embeddings.projection.weight', 'patch_embeddings.projection.bias',
              'cls_token', 'position_embeddings'):
        o.append(frec(t[e + k]))
    for i in range(el):
        p = 'encoder.encoder.layer.%d.' % i
        for k in ('layernorm_before.weight', 'layernorm_before.bias',
                  'attention.attention.query.weight', 'attention.attention.query.bias',
                  'attention.attention.key.weight', 'attention.attention.key.bias',
                  'attention.attention.value.weight', 'attention.attention.value.bias',
                  'attention.output.dense.weight', 'attention.output.dense.bias',
                  'layernorm_after.weight', 'layernorm_after.bias',
                  'intermediate.dense.weight', 'intermediate.dense.bias',
                  'output.dense.weight', 'output.dense.bias'):
            w = t[p + k]
            o.append(i8(w) if mode == 'full' and w.ndim == 2 else frec(w))
    o += [frec(t['encoder.layernorm.weight']), frec(t['encoder.layernorm.bias'])]
    o.append(frec(t['predictor.pos_embedding']))
    for i in range(pred['depth']):
        p = 'predictor.transformer.layers.%d.' % i
        for k in ('adaLN_modulation.1.weight', 'adaLN_modulation.1.bias', 'attn.to_qkv.weight',
                  'attn.to_out.0.weight', 'attn.to_out.0.bias', 'attn.norm.weight',
                  'attn.norm.bias', 'mlp.net.0.weight', 'mlp.net.0.bias', 'mlp.net.1.weight',
                  'mlp.net.1.bias', 'mlp.net.4.weight', 'mlp.net.4.bias'):
            w = t[p + k]
            if w.ndim == 2:
                o.append(q4(wanda(w, sp) if sp else w))
            else:
                o.append(frec(w))
    o += [frec(t['predictor.transformer.norm.weight']), frec(t['predictor.transformer.norm.bias'])]
    for k in ('patch_embed.weight', 'patch_embed.bias', 'embed.0.weight', 'embed.0.bias',
              'embed.2.weight', 'embed.2.bias'):
        o.append(frec(t['action_encoder.' + k]))
    for h in ('projector', 'pred_proj'):
        o.append(struct.pack('<I', 3))
        for k in ('net.0.weight', 'net.0.bias', 'net.3.weight', 'net.3.bias'):
            o.append(frec(t[h + '.' + k]))
        o += [frec(None), frec(None)]
    for k in ('input_proj.weight', 'input_proj.bias', 'cond_proj.weight', 'cond_proj.bias'):
        o.append(frec(t.get('predictor.transformer.' + k)))
    o += [frec(None)] * 3
    open(sys.argv[5] if sys.argv[4] == '-o' else sys.argv[4], 'wb').write(b''.join(o))


main()
