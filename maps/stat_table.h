/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every counter table of a data plane shares (maps/xlb_stats.h,
 * maps/decap_maps.h). A table is an X-macro, one row per counter:
 *
 *   X(ID, INDEX, NAME, CLASS)
 *
 * ID names the counter, INDEX is its slot in the pinned per-CPU stats map,
 * NAME is what users see, CLASS is PASS (the packet is left to the
 * kernel), DROP (dropped) or INFO (neither: a count along the way). The
 * class decides the program's verdict and the metric a counter feeds.
 *
 * The map outlives upgrades, so a table follows the rules of a file
 * format: append only, with the next index; never renumber; never reuse
 * the index of a retired counter (leave a gap). The map has a fixed
 * number of slots whatever the table holds, so a new counter keeps the
 * pinned map.
 */
#ifndef XLB_STAT_TABLE_H
#define XLB_STAT_TABLE_H

enum xlb_stat_class {
	XLB_STAT_CLASS_PASS,
	XLB_STAT_CLASS_DROP,
	XLB_STAT_CLASS_INFO,
};

/*
 * In a BPF program: static int fn(__u32 reason), the verdict of a packet
 * counted under reason. A reason of class DROP drops; any other passes.
 */
#define XLB_STAT_CASE_PASS_(idx)
#define XLB_STAT_CASE_INFO_(idx)
#define XLB_STAT_CASE_DROP_(idx) case idx:
#define XLB_STAT_DROP_CASE_(id, idx, name, cls) XLB_STAT_CASE_##cls##_(idx)
#define XLB_STAT_VERDICT_FN(fn, TABLE)                                                     \
	static __always_inline int fn(__u32 reason)                                        \
	{                                                                                  \
		switch (reason) {                                                          \
		TABLE(XLB_STAT_DROP_CASE_)                                                 \
			return XDP_DROP;                                                   \
		default:                                                                   \
			return XDP_PASS;                                                   \
		}                                                                          \
	}

/*
 * The compile-time rules of TABLE, whose enum says max (one past the
 * last row's index) and whose map has slots: the last row holds the
 * highest index, it fits the map, and no index is used twice (a
 * duplicate case does not compile; the function is never called).
 */
#define XLB_STAT_SPAN_(id, idx, name, cls) char id[(idx) + 1];
#define XLB_STAT_UNIQUE_(id, idx, name, cls) case idx:
#define XLB_STAT_TABLE_RULES(TABLE, tag, max, slots)                                      \
	union tag##_span_ { TABLE(XLB_STAT_SPAN_) };                                       \
	_Static_assert(sizeof(union tag##_span_) == (max),                                 \
		       #tag ": a new counter goes at the end, with the next index");        \
	_Static_assert((max) <= (slots), #tag ": the stats map is full");                  \
	static inline void tag##_indexes_unique_(int i)                                    \
	{                                                                                  \
		switch (i) {                                                               \
		TABLE(XLB_STAT_UNIQUE_)                                                    \
		default:                                                                   \
			break;                                                             \
		}                                                                          \
	}

#endif /* XLB_STAT_TABLE_H */
