// SPDX-License-Identifier: GPL-2.0
/*
 * The config text as a libyaml document: parsed first, for syntax errors
 * and what libcyaml would mishandle, then walked by path to find the line
 * of a key for every message (libcyaml's own line numbers point wherever
 * its parser happened to be).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* Document walking, for line numbers. */

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* Value of the nth (1-based) occurrence of key in a mapping node. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *n,
			    const char *key, size_t klen, int nth,
			    yaml_node_t **knode)
{
	yaml_node_pair_t *p;

	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (!k || k->type != YAML_SCALAR_NODE ||
		    k->data.scalar.length != klen ||
		    memcmp(k->data.scalar.value, key, klen) || --nth)
			continue;
		*knode = k;
		return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static yaml_node_t *seq_get(yaml_document_t *doc, yaml_node_t *n,
			    unsigned long idx)
{
	if (!n || n->type != YAML_SEQUENCE_NODE ||
	    idx >= (unsigned long)(n->data.sequence.items.top -
				   n->data.sequence.items.start))
		return NULL;
	return yaml_document_get_node(doc, n->data.sequence.items.start[idx]);
}

/*
 * Follow a path like "vips[1].backends[0].address" and return its node, or
 * NULL. *line gets the line of the deepest step found (the key for a
 * mapping step), so a message always has the closest line we know.
 */
yaml_node_t *cfg_path_node(yaml_document_t *doc, const char *path,
			   int *line)
{
	yaml_node_t *n = yaml_document_get_root_node(doc), *k;
	const char *p = path;
	char *end;

	*line = n ? node_line(n) : 1;
	while (n && *p) {
		size_t len = strcspn(p, ".[");

		if (len) {
			n = map_get(doc, n, p, len, 1, &k);
			if (!n)
				return NULL;
			*line = node_line(k);
			p += len;
		}
		while (n && *p == '[') {
			n = seq_get(doc, n, strtoul(p + 1, &end, 10));
			if (!n)
				return NULL;
			*line = node_line(n);
			p = *end == ']' ? end + 1 : end;
		}
		if (*p == '.')
			p++;
	}
	return n;
}

int cfg_path_line(yaml_document_t *doc, const char *path)
{
	int line;

	cfg_path_node(doc, path, &line);
	return line;
}

/* Line of the nth occurrence of key in the mapping at path. */
int cfg_key_line(yaml_document_t *doc, const char *path, const char *key,
		 int nth)
{
	yaml_node_t *n, *k;
	int line;

	n = cfg_path_node(doc, path, &line);
	if (n && map_get(doc, n, key, strlen(key), nth, &k))
		line = node_line(k);
	return line;
}

/* Messages */

void cfg_report(struct cfg_ctx *c, int line, const char *path,
		const char *msg)
{
	if (!c->err || !c->errlen)
		return;
	if (*path)
		snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->name, line,
			 path, msg);
	else
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, line, msg);
}

void cfg_join(char *buf, size_t len, const char *prefix, const char *key)
{
	if (!key)
		snprintf(buf, len, "%s", prefix);
	else if (!*prefix)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", prefix, key);
}

/* Error at prefix.key (either may be empty/NULL), on that key's line. */
int cfg_err(struct cfg_ctx *c, const char *prefix, const char *key,
	    const char *fmt, ...)
{
	char path[PATH_MAX_LEN], msg[XLB_ERR_MAX];
	va_list ap;

	cfg_join(path, sizeof(path), prefix, key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_report(c, cfg_path_line(c->doc, path), path, msg);
	return -EINVAL;
}

/* libyaml's own complaint about the text, with its line. */
static int yaml_error(struct cfg_ctx *c, yaml_parser_t *parser,
		      const char *yaml, size_t len)
{
	size_t line = parser->problem_mark.line + 1, i;
	int n;

	if (parser->error == YAML_MEMORY_ERROR) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	if (parser->error == YAML_READER_ERROR) {
		/* Reader errors give a byte offset, not a mark. */
		line = 1;
		for (i = 0; i < parser->problem_offset && i < len; i++)
			line += yaml[i] == '\n';
	}
	n = snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s",
		     c->name, line,
		     parser->problem ? parser->problem : "unknown error");
	/* Where an unclosed construct began is often the real mistake. */
	if (parser->context && parser->context_mark.line + 1 != line &&
	    n > 0 && (size_t)n < c->errlen)
		snprintf(c->err + n, c->errlen - n, " (%s at line %zu)",
			 parser->context, parser->context_mark.line + 1);
	return -EINVAL;
}

static int is_null(const char *s)
{
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A document that holds nothing: no node, or a lone null ("---"). */
int cfg_doc_is_empty(yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);

	if (!root)
		return 1;
	return root->type == YAML_SCALAR_NODE &&
	       root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       is_null((const char *)root->data.scalar.value);
}

/*
 * What libcyaml would mishandle: a list or mapping used as a key (it has
 * no message for that) and a NUL inside a value (C strings end there).
 */
static int check_nodes(struct cfg_ctx *c)
{
	yaml_node_t *n, *k;
	yaml_node_pair_t *p;

	for (n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
		if (n->type == YAML_SCALAR_NODE &&
		    memchr(n->data.scalar.value, '\0', n->data.scalar.length)) {
			snprintf(c->err, c->errlen,
				 "%s:%d: NUL character in a value", c->name,
				 node_line(n));
			return -EINVAL;
		}
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(c->doc, p->key);
			if (!k || k->type == YAML_SCALAR_NODE)
				continue;
			snprintf(c->err, c->errlen,
				 "%s:%d: expected a key name, got %s", c->name,
				 node_line(k), k->type == YAML_SEQUENCE_NODE ?
				 "a list" : "a mapping");
			return -EINVAL;
		}
	}
	return 0;
}

int cfg_load_doc(struct cfg_ctx *c, const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	int err = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, c->doc)) {
		err = yaml_error(c, &parser, yaml, len);
		goto out;
	}
	/* libcyaml reads only the first document: refuse to drop the rest. */
	if (!yaml_parser_load(&parser, &extra)) {
		err = yaml_error(c, &parser, yaml, len);
		goto out_doc;
	}
	root = yaml_document_get_root_node(&extra);
	if (root) {
		snprintf(c->err, c->errlen,
			 "%s:%d: only one YAML document is allowed", c->name,
			 node_line(root));
		err = -EINVAL;
	}
	yaml_document_delete(&extra);
	if (err)
		goto out_doc;

	err = check_nodes(c);
	if (err)
		goto out_doc;
	root = yaml_document_get_root_node(c->doc);
	if (!cfg_doc_is_empty(c->doc) && root->type != YAML_MAPPING_NODE) {
		snprintf(c->err, c->errlen,
			 "%s:%d: expected a mapping at the top level",
			 c->name, node_line(root));
		err = -EINVAL;
		goto out_doc;
	}
	goto out;
out_doc:
	yaml_document_delete(c->doc);
out:
	yaml_parser_delete(&parser);
	return err;
}

