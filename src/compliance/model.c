/*
 * model.c - the checker's learned second stage: a linear model over the
 * hashed features of features.c, trained by scripts/train-compliance on
 * the labelled corpus and shipped as a data file beside the packs. It is
 * loaded whole, checked (size, versions, checksum) before anything of it
 * is used, and is then as immutable as the packs.
 *
 * The model file, all numbers little-endian:
 *
 *   offset  bytes  what
 *   0       8      magic "CANDORML"
 *   8       4      format version (1)
 *   12      4      features version (CC_FEATURES_VERSION it was trained with)
 *   16      4      F, the number of families (1 to 16)
 *   20      4      N, the number of features
 *   24      4      C, the length of the concepts source
 *   28      4      bias of the verdict (float32)
 *   32      4      threshold on the verdict's score (float32, a logit)
 *   36      64     label: what it was trained on (NUL-padded)
 *   100     512    16 family names, 32 bytes each (NUL-padded)
 *   612     64     16 family biases (float32)
 *   676     C      the concepts source (libconfig; etc/model/concepts.conf)
 *   676+C   4N     feature ids (uint32, ascending, none 0)
 *           4N     verdict weights (float32)
 *           4NF    family weights (float32, F per feature)
 *   end-4   4      CRC-32 (the IEEE polynomial, as zlib) of all before it
 *
 * A text is scored whole when it is short (CC_WINDOW_CHARS), else in
 * windows of whole sentences, so one bad sentence in a long mail is not
 * diluted by the rest. A window whose score reaches the threshold is a
 * finding "model.<family>" (the family of highest family score), over
 * the sentence that weighed most, with the score and the concepts found.
 */
#include "config.h"

#include <ctype.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/compliance_impl.h"
#include "candor/util.h"

#define MAGIC "CANDORML"
#define FORMAT_VERSION 1u
#define MAX_FAMILIES 16
#define HEADER_BYTES 676u
#define MAX_MODEL_BYTES (256u * 1024 * 1024)

struct slot {
	uint32_t id;            /* 0: empty */
	float w;
};

struct cc_model {
	char *path, label[65];
	uint32_t nfeatures, nfamilies;
	float bias, threshold;
	double yield_below;     /* rules that yield give way below this score */
	float fam_bias[MAX_FAMILIES];
	struct cc_rule fam[MAX_FAMILIES];
	float *fam_w;           /* nfeatures * nfamilies */
	struct slot *slots;     /* open addressing on the id */
	uint32_t *index;        /* per slot: its feature's family weights */
	float *alone;           /* per concept: its weight on its own */
	size_t nalone;
	uint32_t mask;
	/* concept features' weights by concept numbers, so scoring neither
	 * hashes nor probes for them: N concepts; ONE, TWO [N]; SENT_PAIR,
	 * ORDER, DOC_PAIR [N * N]; TRIPLE [N * N * N] (NULL when N is large) */
	size_t nc;
	float *one, *two, *sent_pair, *order, *doc_pair, *triple;
};

/* ---- reading the file -------------------------------------------------- */

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xFFFFFFFFu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t u32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float f32_at(const unsigned char *p)
{
	uint32_t u = u32_at(p);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static int model_error(struct cd_errors *errs, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int model_error(struct cd_errors *errs, const char *path, int line, const char *fmt, ...)
{
	struct cd_error e = { .code = CD_ECONFIG };
	va_list ap;

	snprintf(e.file, sizeof(e.file), "%s", path);
	e.line = line;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	cd_errors_add(errs, &e);
	return CD_ECONFIG;
}

/* The header and the sizes it promises, against the file's length. */
static int check_header(const unsigned char *b, size_t len, const char *path, struct cd_errors *errs)
{
	uint32_t nfam, nfeat, clen;
	uint64_t want;

	if (len < 8 || memcmp(b, MAGIC, 8) != 0)
		return model_error(errs, path, 0, "not a candor compliance model (no \"%s\" at its start)", MAGIC);
	if (len < HEADER_BYTES + 4)
		return model_error(errs, path, 0, "compliance model truncated: %zu bytes, the header alone is %u",
				   len, HEADER_BYTES + 4);
	if (u32_at(b + 8) != FORMAT_VERSION)
		return model_error(errs, path, 0, "compliance model of format version %u; this candor reads version %u",
				   u32_at(b + 8), FORMAT_VERSION);
	if (u32_at(b + 12) != CC_FEATURES_VERSION)
		return model_error(errs, path, 0,
				   "compliance model trained on features version %u; this candor computes version %u "
				   "(retrain it with scripts/train-compliance)", u32_at(b + 12), CC_FEATURES_VERSION);
	nfam = u32_at(b + 16);
	nfeat = u32_at(b + 20);
	clen = u32_at(b + 24);
	if (nfam < 1 || nfam > MAX_FAMILIES)
		return model_error(errs, path, 0, "compliance model damaged: %u families", nfam);
	want = (uint64_t)HEADER_BYTES + clen + (uint64_t)nfeat * (8 + 4ull * nfam) + 4;
	if (len < want)
		return model_error(errs, path, 0, "compliance model truncated: %zu bytes of %llu", len,
				   (unsigned long long)want);
	if (len > want)
		return model_error(errs, path, 0, "compliance model damaged: %zu bytes, expected %llu", len,
				   (unsigned long long)want);
	if (crc32_ieee(b, len - 4) != u32_at(b + len - 4))
		return model_error(errs, path, 0, "compliance model damaged: checksum mismatch");
	return 0;
}

static const char *const known_families[] = {
	"incentive", "positive_only", "gating", "change_remove", "pressure", "marketing", "other",
};

/* The message and suggestion of family NAME from the concepts source's
 * "families" group. */
static int family_rule(struct cc_model *m, uint32_t k, const char *name, const config_t *cf)
{
	struct cc_rule *r = &m->fam[k];
	const char *msg = "reads as a request that buys, gates or pressures reviews";
	const char *sugg = "Ask every customer alike for an honest review, and give nothing for it.";
	char id[64];
	config_setting_t *g;
	size_t i = 0;

	while (i < sizeof(known_families) / sizeof(known_families[0]) && strcmp(known_families[i], name) != 0)
		i++;
	snprintf(id, sizeof(id), "model.%.32s", name);
	g = config_lookup(cf, "families");
	g = g ? config_setting_get_member(g, name) : NULL;
	if (g) {
		config_setting_lookup_string(g, "message", &msg);
		config_setting_lookup_string(g, "suggestion", &sugg);
	}
	r->id = strdup(id);
	r->family = strdup(i < sizeof(known_families) / sizeof(known_families[0]) ? name : "other");
	r->severity = strdup("error");
	r->message = strdup(msg);
	r->suggestion = strdup(sugg);
	r->pack = strdup(CD_COMPLIANCE_MODEL_PACK);
	r->error = 1;
	return r->id && r->family && r->severity && r->message && r->suggestion && r->pack ? 0 : CD_ENOMEM;
}

/* The concepts named in the source's "gate" (CF) as a mask over C's
 * concepts: the model judges only windows that hold one. No gate: all. */
static int set_gate(struct cd_compliance *c, const config_t *cf, const char *path,
		    struct cd_errors *errs)
{
	config_setting_t *g = config_lookup(cf, "gate");

	c->gate_mask = ~0ull;
	if (!g)
		return 0;
	if (config_setting_type(g) != CONFIG_TYPE_ARRAY)
		return model_error(errs, path, config_setting_source_line(g),
				   "gate must be an array of concept names");
	c->gate_mask = 0;
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *name = config_setting_get_string_elem(g, (unsigned)i);
		size_t k = 0;

		while (name && k < c->nconcepts &&
		       strcmp(c->lists[c->concept_base + k].name + strlen(CC_CONCEPT_PREFIX), name) != 0)
			k++;
		if (!name || k == c->nconcepts || k >= 64)
			return model_error(errs, path, config_setting_source_line(g),
					   "gate: no concept \"%s\"", name ? name : "");
		c->gate_mask |= 1ull << k;
	}
	return 0;
}

/* The source's "yield_below" (CF) into M: the score under which the
 * model is sure a text is honest and rules that yield give way. None:
 * they never do. */
static int set_yield(struct cc_model *m, const config_t *cf, const char *path,
		     struct cd_errors *errs)
{
	config_setting_t *y = config_lookup(cf, "yield_below");
	int type = y ? config_setting_type(y) : CONFIG_TYPE_NONE;

	m->yield_below = -HUGE_VAL;
	if (!y)
		return 0;
	if (type != CONFIG_TYPE_FLOAT && type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return model_error(errs, path, config_setting_source_line(y),
				   "yield_below must be a number (a score, like the threshold)");
	m->yield_below = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(y)
						    : (double)config_setting_get_int64(y);
	if (m->yield_below >= m->threshold)
		return model_error(errs, path, config_setting_source_line(y),
				   "yield_below (%g) must lie below the model's threshold (%g)",
				   m->yield_below, (double)m->threshold);
	return 0;
}

/* Drop C's lists and terms from NLISTS and NTERMS on (a model that
 * failed to load). */
static void truncate_lists(struct cd_compliance *c, size_t nlists, size_t nterms)
{
	for (size_t i = nterms; i < c->nterms; i++)
		free(c->terms[i].text);
	for (size_t i = nlists; i < c->nlists; i++)
		free(c->lists[i].name);
	c->nterms = nterms;
	c->nlists = nlists;
}

/* The concept lists of the source TEXT into C (as lists "model.NAME",
 * matched in the same pass as the packs' terms), and the families'
 * wording into M. On failure C is as it was. */
static int load_source(struct cc_model *m, struct cd_compliance *c, const char *text,
		       char names[][33], const char *path, struct cd_errors *errs)
{
	size_t nlists = c->nlists, nterms = c->nterms;
	config_t cf;
	config_setting_t *lists;
	int rc;

	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		rc = model_error(errs, path, config_error_line(&cf), "compliance model's concepts: %s",
				 config_error_text(&cf));
		goto out;
	}
	lists = config_lookup(&cf, "concepts");
	if (!lists || config_setting_type(lists) != CONFIG_TYPE_GROUP) {
		rc = model_error(errs, path, 0, "compliance model's concepts: no group \"concepts\"");
		goto out;
	}
	if ((rc = cc_load_lists(c, lists, path, CC_CONCEPT_PREFIX, errs)) < 0)
		goto out;
	for (size_t l = nlists; l < c->nlists; l++)
		if (strncmp(c->lists[l].name, CC_CONCEPT_PREFIX, strlen(CC_CONCEPT_PREFIX)) != 0) {
			rc = model_error(errs, path, 0, "compliance model's concepts: list \"%s\" is not the model's",
					 c->lists[l].name);
			goto out;
		}
	for (uint32_t k = 0; k < m->nfamilies; k++)
		if ((rc = family_rule(m, k, names[k], &cf)) < 0)
			goto out;
	c->concept_base = nlists;
	c->nconcepts = c->nlists - nlists;
	if ((rc = set_gate(c, &cf, path, errs)) < 0 || (rc = set_yield(m, &cf, path, errs)) < 0)
		goto out;
	cc_unbuild(c);
	rc = cc_build(c);
out:
	if (rc < 0) {
		truncate_lists(c, nlists, nterms);
		c->nconcepts = 0;
		c->gate_mask = 0;
		if (!c->states)
			cc_build(c);
	}
	config_destroy(&cf);
	return rc;
}

static int build_slots(struct cc_model *m, const unsigned char *ids, const unsigned char *w)
{
	uint32_t cap = 1024;

	/* at most two thirds full: a probe or two, in a table that stays in cache */
	while (cap < m->nfeatures + m->nfeatures / 2u)
		cap *= 2;
	if (!(m->slots = calloc(cap, sizeof(*m->slots))) ||
	    !(m->index = calloc(cap, sizeof(*m->index))))
		return CD_ENOMEM;
	m->mask = cap - 1;
	for (uint32_t i = 0; i < m->nfeatures; i++) {
		uint32_t id = u32_at(ids + 4 * i), s = id & m->mask;

		while (m->slots[s].id && m->slots[s].id != id)
			s = (s + 1) & m->mask;
		m->slots[s].id = id;
		m->slots[s].w = f32_at(w + 4 * i);
		m->index[s] = i;
	}
	return 0;
}

static int parse(struct cc_model *m, struct cd_compliance *c, const unsigned char *b,
		 const char *path, struct cd_errors *errs)
{
	uint32_t clen = u32_at(b + 24);
	const unsigned char *ids, *w, *fw;
	char names[MAX_FAMILIES][33], *source;
	int rc;

	m->nfamilies = u32_at(b + 16);
	m->nfeatures = u32_at(b + 20);
	m->bias = f32_at(b + 28);
	m->threshold = f32_at(b + 32);
	memcpy(m->label, b + 36, 64);
	m->label[64] = '\0';
	for (uint32_t k = 0; k < m->nfamilies; k++) {
		memcpy(names[k], b + 100 + 32 * k, 32);
		names[k][32] = '\0';
		if (!*names[k])
			return model_error(errs, path, 0, "compliance model damaged: family %u has no name", k);
		m->fam_bias[k] = f32_at(b + 612 + 4 * k);
	}
	if (!(source = strndup((const char *)b + HEADER_BYTES, clen)))
		return CD_ENOMEM;
	rc = load_source(m, c, source, names, path, errs);
	free(source);
	if (rc < 0)
		return rc;
	ids = b + HEADER_BYTES + clen;
	w = ids + 4ull * m->nfeatures;
	fw = w + 4ull * m->nfeatures;
	for (uint32_t i = 1; i < m->nfeatures; i++)
		if (u32_at(ids + 4 * i) <= u32_at(ids + 4 * (i - 1)))
			return model_error(errs, path, 0, "compliance model damaged: feature ids out of order");
	if ((rc = build_slots(m, ids, w)) < 0)
		return rc;
	if (!(m->fam_w = malloc(((size_t)m->nfeatures * m->nfamilies + 1) * sizeof(*m->fam_w))))
		return CD_ENOMEM;
	for (size_t i = 0; i < (size_t)m->nfeatures * m->nfamilies; i++)
		m->fam_w[i] = f32_at(fw + 4 * i);
	return 0;
}

static float weight(const struct cc_model *m, uint32_t id);

#define TRIPLE_TABLE_MAX 40    /* concepts: 40^3 floats are 256 kB */

static int concept_tables(struct cc_model *m, const struct cd_compliance *c)
{
	size_t n = c->nconcepts < 64 ? c->nconcepts : 64;

	m->nc = n;
	if (!(m->one = calloc(n + 1, sizeof(float))) || !(m->two = calloc(n + 1, sizeof(float))) ||
	    !(m->sent_pair = calloc(n * n + 1, sizeof(float))) ||
	    !(m->order = calloc(n * n + 1, sizeof(float))) ||
	    !(m->doc_pair = calloc(n * n + 1, sizeof(float))))
		return CD_ENOMEM;
	if (n <= TRIPLE_TABLE_MAX && !(m->triple = calloc(n * n * n + 1, sizeof(float))))
		return CD_ENOMEM;
	for (size_t a = 0; a < n; a++) {
		m->one[a] = weight(m, cc_concept_feature(c, 'k', (int)a, 0, 0));
		m->two[a] = weight(m, cc_concept_feature(c, 'm', (int)a, 0, 0));
		for (size_t b = 0; b < n; b++) {
			m->sent_pair[a * n + b] = weight(m, cc_concept_feature(c, 's', (int)a, (int)b, 0));
			m->order[a * n + b] = weight(m, cc_concept_feature(c, 'o', (int)a, (int)b, 0));
			m->doc_pair[a * n + b] = weight(m, cc_concept_feature(c, 'd', (int)a, (int)b, 0));
			for (size_t z = 0; m->triple && z < n; z++)
				m->triple[(a * n + b) * n + z] =
					weight(m, cc_concept_feature(c, 't', (int)a, (int)b, (int)z));
		}
	}
	return 0;
}

int cc_model_concept_weight(const struct cc_model *m, char ns, int a, int b, int z, float *w)
{
	size_t n = m->nc;

	if ((size_t)a >= n || (size_t)b >= n || (size_t)z >= n)
		return 0;
	switch (ns) {
	case 'k': *w = m->one[a]; return 1;
	case 'm': *w = m->two[a]; return 1;
	case 's': *w = m->sent_pair[(size_t)a * n + (size_t)b]; return 1;
	case 'o': *w = m->order[(size_t)a * n + (size_t)b]; return 1;
	case 'd': *w = m->doc_pair[(size_t)a * n + (size_t)b]; return 1;
	case 't':
		if (!m->triple)
			return 0;
		*w = m->triple[((size_t)a * n + (size_t)b) * n + (size_t)z];
		return 1;
	}
	return 0;
}

int cd_compliance_load_model(struct cd_compliance *c, const char *path, struct cd_errors *errs)
{
	struct cc_model *m = NULL;
	unsigned char *b = NULL;
	struct cd_error err;
	size_t len = 0;
	int rc;

	if (c->model)
		return model_error(errs, path, 0, "a compliance model is loaded already");
	rc = cd_util_read_bytes(path, MAX_MODEL_BYTES, (char **)&b, &len, &err);
	if (rc < 0) {
		if (rc == CD_ENOMEM)
			return rc;
		return model_error(errs, path, 0, "cannot read the compliance model: %s", err.msg);
	}
	if ((rc = check_header(b, len, path, errs)) < 0)
		goto out;
	if (!(m = calloc(1, sizeof(*m))) || !(m->path = strdup(path))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if ((rc = parse(m, c, b, path, errs)) < 0)
		goto out;
	if (!(m->alone = calloc(c->nconcepts + 1, sizeof(*m->alone)))) {
		rc = CD_ENOMEM;
		goto out;
	}
	m->nalone = c->nconcepts;
	if ((rc = concept_tables(m, c)) < 0)
		goto out;
	for (size_t k = 0; k < c->nconcepts; k++)
		m->alone[k] = weight(m, cc_concept_id(c->lists[c->concept_base + k].name +
						      strlen(CC_CONCEPT_PREFIX)));
	c->model = m;
	m = NULL;
out:
	cc_model_free(m);
	free(b);
	return rc;
}

void cc_model_free(struct cc_model *m)
{
	if (!m)
		return;
	for (uint32_t k = 0; k < MAX_FAMILIES; k++)
		cc_rule_free(&m->fam[k]);
	free(m->index);
	free(m->alone);
	free(m->one);
	free(m->two);
	free(m->sent_pair);
	free(m->order);
	free(m->doc_pair);
	free(m->triple);
	free(m->fam_w);
	free(m->slots);
	free(m->path);
	free(m);
}

double cd_compliance_model_threshold(const struct cd_compliance *c)
{
	return c->model ? c->model->threshold : HUGE_VAL;
}

const char *cd_compliance_model_info(const struct cd_compliance *c, char *buf, size_t len)
{
	if (!c || !c->model)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s: %u features, %u families, trained on %s", c->model->path,
			 c->model->nfeatures, c->model->nfamilies, c->model->label);
	return buf;
}

int cd_compliance_load_concepts(const char *path, struct cd_compliance **out,
				struct cd_errors *errs)
{
	struct cd_compliance *c = NULL;
	struct cd_error err;
	config_t cf;
	config_setting_t *lists;
	char *text = NULL;
	int rc;

	*out = NULL;
	if ((rc = cd_util_read_file(path, MAX_MODEL_BYTES, &text, NULL, &err)) < 0)
		return rc == CD_ENOMEM ? rc : model_error(errs, path, 0, "%s", err.msg);
	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		rc = model_error(errs, path, config_error_line(&cf), "%s", config_error_text(&cf));
		goto out;
	}
	lists = config_lookup(&cf, "concepts");
	if (!lists || config_setting_type(lists) != CONFIG_TYPE_GROUP) {
		rc = model_error(errs, path, 0, "no group \"concepts\"");
		goto out;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		rc = CD_ENOMEM;
		goto out;
	}
	if ((rc = cc_load_lists(c, lists, path, CC_CONCEPT_PREFIX, errs)) < 0)
		goto out;
	c->concept_base = 0;
	c->nconcepts = c->nlists;
	if ((rc = set_gate(c, &cf, path, errs)) < 0 || (rc = cc_build(c)) < 0)
		goto out;
	*out = c;
	c = NULL;
out:
	config_destroy(&cf);
	cd_compliance_free(c);
	free(text);
	return rc;
}

/* ---- scoring ------------------------------------------------------------ */

/* The slot of feature ID, or NULL when the model does not know it. */
static const struct slot *lookup(const struct cc_model *m, uint32_t id)
{
	uint32_t s = id & m->mask;

	while (m->slots[s].id) {
		if (m->slots[s].id == id)
			return &m->slots[s];
		s = (s + 1) & m->mask;
	}
	return NULL;
}

static float weight(const struct cc_model *m, uint32_t id)
{
	const struct slot *x = lookup(m, id);

	return x ? x->w : 0.0f;
}

float cc_model_weight(const struct cc_model *m, uint32_t id)
{
	return weight(m, id);
}

/* The score of the window F was cc_featurize_score'd over. */
static double summed_score(const struct cc_model *m, const struct cc_feats *f)
{
	return m->bias + f->wconcept + f->wngram * cc_ngram_value(f->ngrams);
}

/* The score of F, each feature's weight and slot noted in it for
 * explaining a verdict. */
static double score(const struct cc_model *m, struct cc_feats *f)
{
	double ngram = 0, concept = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct cc_feat *x = &f->f[i];
		const struct slot *sl = lookup(m, x->id);

		x->w = sl ? sl->w : 0.0f;
		x->slot = sl ? (int32_t)(sl - m->slots) : -1;
		if (x->ngram)
			ngram += x->w;
		else
			concept += x->w;
	}
	return m->bias + concept + ngram * cc_ngram_value(f->ngrams);
}

/* The family of highest score (F scored). */
static uint32_t family(const struct cc_model *m, const struct cc_feats *f)
{
	double s[MAX_FAMILIES], v = cc_ngram_value(f->ngrams);
	uint32_t best = 0;

	for (uint32_t k = 0; k < m->nfamilies; k++)
		s[k] = m->fam_bias[k];
	for (size_t i = 0; i < f->n; i++) {
		const float *fw;

		if (f->f[i].slot < 0)
			continue;
		fw = &m->fam_w[(size_t)m->index[f->f[i].slot] * m->nfamilies];
		for (uint32_t k = 0; k < m->nfamilies; k++)
			s[k] += fw[k] * (f->f[i].ngram ? v : 1.0);
	}
	for (uint32_t k = 1; k < m->nfamilies; k++)
		if (s[k] > s[best])
			best = k;
	return best;
}

static size_t sentence_index(const struct cc_window *w, size_t at)
{
	size_t lo = 0, hi = w->nbounds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->bounds[mid] < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sentence of window W that weighed most towards the verdict, as
 * normalized bytes [*FROM, *TO). */
static void weightiest_sentence(const struct cc_model *m, const struct cc_feats *f,
				const struct cc_window *w, size_t *from, size_t *to)
{
	size_t s0 = sentence_index(w, w->from), s1 = sentence_index(w, w->to ? w->to - 1 : 0);
	size_t nsent = s1 - s0 + 1, best = 0;
	double v = cc_ngram_value(f->ngrams), few[32] = { 0 };
	double *sum = nsent <= 32 ? few : calloc(nsent, sizeof(*sum));

	if (sum) {
		for (size_t i = 0; i < f->n; i++) {
			const struct cc_feat *x = &f->f[i];

			if (!x->ngram && x->start == w->from && x->end == w->to && nsent > 1)
				continue; /* a pair of concepts anywhere: no one place */
			sum[sentence_index(w, x->start) - s0] += x->w * (x->ngram ? v : 1.0);
		}
		for (size_t k = 1; k < nsent; k++)
			if (sum[k] > sum[best])
				best = k;
		if (sum != few)
			free(sum);
	}
	*from = s0 + best > 0 ? w->bounds[s0 + best - 1] + 1 : 0;
	*to = s0 + best < w->nbounds ? w->bounds[s0 + best] + 1 : w->to;
	*from = *from < w->from ? w->from : *from;
	*to = *to > w->to ? w->to : *to;
}

/* "score 0.93; benefit "omaggio", review "recensione"": the concepts
 * of the window the model counts against it, as written. */
static void describe(const struct cd_compliance *c, const struct cc_feats *f, double p,
		     const char *orig, const struct cd_normtext *n, char *buf, size_t len)
{
	const struct cc_model *m = c->model;
	uint64_t seen = 0;
	size_t used;

	snprintf(buf, len, "score %.2f", p);
	for (size_t i = 0; i < f->concepts.n; i++) {
		const struct cc_match *x = &f->concepts.m[i];
		const char *name = c->lists[c->concept_base + (size_t)x->list].name +
				   strlen(CC_CONCEPT_PREFIX);
		size_t o0, o1;

		if (x->list >= 64 || (seen >> x->list & 1))
			continue;
		seen |= 1ull << x->list;
		/* what the concept weighs on its own */
		if (x->list >= (int)m->nalone || m->alone[x->list] <= 0)
			continue;
		o0 = n->map[x->start];
		o1 = n->map[x->end - 1] + 1;
		while (o1 < n->map[n->len] && ((unsigned char)orig[o1] & 0xC0) == 0x80)
			o1++;
		used = strlen(buf);
		if (used + strlen(name) + (o1 - o0) + 6 >= len)
			break;
		snprintf(buf + used, len - used, "; %s \"%.*s\"", name, (int)(o1 - o0), orig + o0);
	}
	for (char *q = buf; *q; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
}

/* Whether one of OUT's findings from FIRST on covers any of original
 * bytes [START, END): windows overlap, and two may weigh the same
 * sentence most, as different families. */
static int placed_before(const struct cd_findings *out, size_t first, size_t start, size_t end)
{
	for (size_t k = first; k < out->count; k++)
		if (out->items[k].start < end && start < out->items[k].end)
			return 1;
	return 0;
}

/* Score window W; where it is held, add a finding over its weightiest
 * sentence unless a model finding (OUT's from FIRST on) is there. */
static int check_window(const struct cd_compliance *c, const char *orig, size_t olen,
			const struct cd_normtext *n, const struct cc_matches *all,
			const struct cc_window *w, struct cc_feats *f, size_t first,
			struct cd_findings *out)
{
	const struct cc_model *m = c->model;
	double s, p;
	size_t from, to, before = out->count;
	int rc;

	/* the score alone first; only a window it holds is featurized again
	 * with every feature's place, to explain the verdict */
	if ((rc = cc_featurize_score(c, m, n, w->from, w->to, w->bounds, w->nbounds, all, f)) < 0)
		return rc;
	if (!f->gate || summed_score(m, f) < m->threshold)
		return 0;
	if ((rc = cc_featurize(c, n, w->from, w->to, w->bounds, w->nbounds, all, f)) < 0)
		return rc;
	s = score(m, f);
	p = 1.0 / (1.0 + exp(-s));
	weightiest_sentence(m, f, w, &from, &to);
	while (from < to && (n->s[from] == ' ' || n->s[from] == '\n'))
		from++;
	while (to > from && (n->s[to - 1] == ' ' || n->s[to - 1] == '\n'))
		to--;
	if (to <= from || placed_before(out, first, n->map[from], n->map[to - 1] + 1))
		return 0;
	rc = cc_add_finding(orig, olen, &m->fam[family(m, f)], n->map[from], n->map[to - 1] + 1, out);
	if (rc == 0 && out->count > before)
		describe(c, f, p, orig, n, out->items[out->count - 1].detail,
			 sizeof(out->items[0].detail));
	return rc;
}

/* The characters of S in bytes [A, B), counted up to MAX at most. */
static size_t chars_between(const char *s, size_t a, size_t b, size_t max)
{
	size_t k = 0;

	for (; a < b && k < max; a++)
		k += ((unsigned char)s[a] & 0xC0) != 0x80;
	return k;
}

/* The end of the window of N that starts at sentence S: whole sentences
 * up to CC_WINDOW_CHARS, counted once each (a short text's windows all
 * run to its end, and cc_each_window does not ask). */
static size_t window_end(const struct cd_normtext *n, const size_t *bounds, size_t nbounds,
			 size_t s)
{
	size_t from = s > 0 ? bounds[s - 1] + 1 : 0, to = s < nbounds ? bounds[s] + 1 : n->len,
	       have = chars_between(n->s, from, to, SIZE_MAX);

	for (size_t e = s; e < nbounds; e++) {
		size_t next = e + 1 < nbounds ? bounds[e + 1] + 1 : n->len,
		       more = chars_between(n->s, to, next, SIZE_MAX);

		if (have + more > CC_WINDOW_CHARS)
			break;
		have += more;
		to = next;
	}
	return to;
}

/* Does the sentence of N from byte FROM to the next end hold a word?
 * "!!", ".\n\n" and "</p><p>" make empty ones. */
static int starts_a_word(const struct cd_normtext *n, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (((unsigned char)n->s[i] & 0x80) || isalnum((unsigned char)n->s[i]))
			return 1;
	return 0;
}

/* The end of the last sentence of N (sentence ends BOUNDS) that holds
 * one of C's concepts (in ALL); 0 if none does. */
static size_t last_saying_end(const struct cd_compliance *c, const struct cd_normtext *n,
			      const size_t *bounds, size_t nbounds, const struct cc_matches *all)
{
	size_t last = 0, k = 0;
	int any = 0;

	for (size_t i = 0; i < all->n; i++) {
		const struct cc_match *m = &all->m[i];
		size_t l = (size_t)m->list;

		if (l >= c->concept_base && l < c->concept_base + c->nconcepts &&
		    (!any || m->end - 1 > last)) {
			last = m->end - 1;
			any = 1;
		}
	}
	if (!any)
		return 0;
	while (k < nbounds && bounds[k] < last)
		k++;
	return k < nbounds ? bounds[k] + 1 : n->len;
}

/* Call FN on each window of N: windows of whole sentences up to
 * CC_WINDOW_CHARS, each starting one sentence later (at a sentence that
 * holds a word). In a short text (the first window is the whole text)
 * one starts at every sentence, so a harmless opener ("We're sorry your
 * parcel was late.") cannot talk down the request after it; each runs
 * to the end, so an excuse after a sentence ("...; it is up to you")
 * still counts, and is scored once more without the last sentences if
 * they hold words but none of C's concepts (in ALL): "Have a lovely
 * weekend! The Team" says nothing of a review, and its words would thin
 * out the words that do, while an excuse names one (independence,
 * honesty, a scale). FN may so see two windows from one start, the
 * second shorter. In a long text they stop at the first that reaches
 * the end: the tails of long honest mails, scored alone, read as offers
 * (an apology's "we are reviewing the product page. Reply: a
 * replacement, a repair or your money back" without the apology). */
int cc_each_window(const struct cd_compliance *c, const struct cd_normtext *n,
		   const size_t *bounds, size_t nbounds, const struct cc_matches *all,
		   int (*fn)(const struct cc_window *w, void *arg), void *arg)
{
	struct cc_window w = { .bounds = bounds, .nbounds = nbounds };
	size_t says = 0;
	int rc = 0;

	w.suffix = n->len <= CC_WINDOW_CHARS ||
		   chars_between(n->s, 0, n->len, CC_WINDOW_CHARS + 1) <= CC_WINDOW_CHARS;
	if (w.suffix)
		says = last_saying_end(c, n, bounds, nbounds, all);

	for (size_t s = 0; s <= nbounds && rc == 0; s++) {
		w.from = s > 0 ? bounds[s - 1] + 1 : 0;
		if (w.from >= n->len)
			break;
		if (!starts_a_word(n, w.from, s < nbounds ? bounds[s] + 1 : n->len))
			continue;
		w.to = w.suffix ? n->len : window_end(n, bounds, nbounds, s);
		rc = fn(&w, arg);
		if (w.to >= n->len && !w.suffix)
			break;
		if (rc == 0 && says > w.from && says < w.to && starts_a_word(n, says, w.to)) {
			w.to = says;
			rc = fn(&w, arg);
		}
	}
	return rc == CC_WINDOWS_DONE ? 0 : rc;
}

struct check_ctx {
	const struct cd_compliance *c;
	const char *orig;
	size_t olen;
	const struct cd_normtext *n;
	const struct cc_matches *all;
	struct cc_feats feats;
	struct cd_findings *f;
	size_t rules, nrules;   /* the packs' findings: f->items[rules, +nrules) */
	double best;
};

/* Whether one of the packs' errors lies in window W. */
static int held_by_rules(const struct check_ctx *x, const struct cc_window *w)
{
	size_t o0 = x->n->map[w->from], o1 = x->n->map[w->to];

	for (size_t i = x->rules; i < x->rules + x->nrules; i++) {
		const struct cd_finding *r = &x->f->items[i];

		if (strcmp(r->severity, "error") == 0 && r->start < o1 && r->end > o0)
			return 1;
	}
	return 0;
}

static int check_one(const struct cc_window *w, void *arg)
{
	struct check_ctx *x = arg;
	int rc;

	if (held_by_rules(x, w))
		return 0;
	rc = check_window(x->c, x->orig, x->olen, x->n, x->all, w, &x->feats,
			  x->rules + x->nrules, x->f);
	/* without a review act here, none in the rest of a short text */
	return rc == 0 && w->suffix && !x->feats.gate ? CC_WINDOWS_DONE : rc;
}

int cc_model_check(const struct cd_compliance *c, const char *orig, size_t olen,
		   const struct cd_normtext *n, const size_t *bounds, size_t nbounds,
		   const struct cc_matches *all, size_t rules, struct cd_findings *f)
{
	struct check_ctx x = { .c = c, .orig = orig, .olen = olen, .n = n, .all = all, .f = f,
			       .rules = rules, .nrules = f->count - rules };
	int rc = cc_each_window(c, n, bounds, nbounds, all, check_one, &x);

	cc_feats_free(&x.feats);
	return rc;
}

static int score_one(const struct cc_window *w, void *arg)
{
	struct check_ctx *x = arg;
	double s;
	int rc = cc_featurize_score(x->c, x->c->model, x->n, w->from, w->to, w->bounds, w->nbounds,
				    x->all, &x->feats);

	if (rc < 0)
		return rc;
	s = x->feats.gate ? summed_score(x->c->model, &x->feats) : -HUGE_VAL;
	if (s > x->best)
		x->best = s;
	return w->suffix && !x->feats.gate ? CC_WINDOWS_DONE : 0;
}

/* The score of N's worst window into *BEST (-HUGE_VAL: none the model
 * judges). */
static int best_window(const struct cd_compliance *c, const struct cd_normtext *n,
		       const size_t *bounds, size_t nbounds, const struct cc_matches *all,
		       double *best)
{
	struct check_ctx x = { .c = c, .n = n, .all = all, .best = -HUGE_VAL };
	int rc = cc_each_window(c, n, bounds, nbounds, all, score_one, &x);

	cc_feats_free(&x.feats);
	*best = x.best;
	return rc;
}

int cc_model_sure_honest(const struct cd_compliance *c, const struct cd_normtext *n,
			 const size_t *bounds, size_t nbounds, const struct cc_matches *all,
			 int *sure)
{
	double best;
	int rc;

	*sure = 0;
	if (!c->model || c->model->yield_below == -HUGE_VAL)
		return 0;
	rc = best_window(c, n, bounds, nbounds, all, &best);
	/* a text the model does not judge (no review word) is not one it is
	 * sure of */
	*sure = rc == 0 && best != -HUGE_VAL && best < c->model->yield_below;
	return rc;
}

int cd_compliance_model_score(const struct cd_compliance *c, const char *text, size_t len,
			      double *out)
{
	struct cd_normtext n = { 0 };
	struct cc_matches all = { 0 };
	size_t *bounds = NULL, nbounds = 0;
	double best;
	int rc;

	*out = -HUGE_VAL;
	if (!c->model)
		return CD_EINVAL;
	if ((rc = cd_normalize(text, len, 0, &n)) < 0 ||
	    (rc = cc_sentence_ends(n.s, n.len, &bounds, &nbounds)) < 0 ||
	    (rc = cc_find(c, n.s, n.len, &all)) < 0)
		goto out;
	if (n.len == 0) {
		*out = c->model->bias;
		goto out;
	}
	if ((rc = best_window(c, &n, bounds, nbounds, &all, &best)) == 0)
		*out = best;
out:
	free(all.m);
	free(bounds);
	cd_normtext_free(&n);
	return rc;
}
