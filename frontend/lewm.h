/*
 * lewm.h -- the LeWM model family: its config (filled by lewm_family.c from
 * config.json, or by lq40.c from an LQ40 header) and its tops (lewm.c).
 */
#ifndef JEPAC_LEWM_H
#define JEPAC_LEWM_H

#include "family.h"

/* Every size of the LeWM family; filled from config.json and tensor shapes
 * (safetensors) or from the LQ40 header and record sizes. */
typedef struct LewmConfig {
	/* encoder (ViT) */
	int image_size, patch_size, channels;
	int enc_hidden, enc_layers, enc_heads, enc_inter;
	/* predictor */
	int num_frames, pred_depth, pred_heads, pred_dim_head, pred_mlp;
	int pred_input_dim, pred_hidden, pred_output_dim;
	/* action encoder */
	int action_input, action_smoothed, action_emb, action_mlp_scale;
	/* projector and pred_proj MLPs */
	int proj_in, proj_hidden, proj_out;
	int pproj_in, pproj_hidden, pproj_out;
	int latent_dim;
} LewmConfig;

extern const Family fam_lewm;           /* lewm_family.c */
extern const FamilyTop lewm_tops[];     /* lewm.c: the --top table */

#endif
