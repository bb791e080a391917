// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The host as a doctor reads it (doctor.h): sysctls, MTUs, ethtool
 * features, where an address is, listeners. All of it is this process's
 * network namespace (ip netns exec runs a doctor in another).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include "doctor.h"
#include "syntax.h"

int doctor_conf_get(const char *family, const char *ifname, const char *name, int *val)
{
	char path[256];
	FILE *f;
	int ok;

	if (strchr(ifname, '/') || (size_t)snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s",
						    family, ifname, name) >= sizeof(path))
		return -EINVAL;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%d", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int conf_pair(const char *ifname, const char *name, int *all, int *dev)
{
	int ret = doctor_conf_get("ipv4", "all", name, all);

	return ret ? ret : doctor_conf_get("ipv4", ifname, name, dev);
}

int doctor_conf_max(const char *ifname, const char *name, int *val)
{
	int all, dev, ret = conf_pair(ifname, name, &all, &dev);

	if (!ret)
		*val = all > dev ? all : dev;
	return ret;
}

int doctor_conf_or(const char *ifname, const char *name, int *val)
{
	int all, dev, ret = conf_pair(ifname, name, &all, &dev);

	if (!ret)
		*val = all || dev;
	return ret;
}

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, ret = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr->ifr_name, ifname);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

int doctor_if_mtu(const char *ifname)
{
	struct ifreq ifr = {};
	int ret = ifreq_ioctl(ifname, SIOCGIFMTU, &ifr);

	return ret ? ret : ifr.ifr_mtu;
}

/* The kernel's names of the features doctor asks about (ethtool -k shows others). */
static const char *const feature_names[NFEATURES] = {
	[FEAT_LRO] = "rx-lro", [FEAT_GRO] = "rx-gro", [FEAT_GRO_HW] = "rx-gro-hw",
};

#define MAX_FEATURE_STRINGS 1024 /* the kernel has about 70 */

int doctor_if_features(const char *ifname, bool active[NFEATURES])
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_gfeatures *feats = NULL;
	struct ifreq ifr = {};
	__u32 count, blocks, i, k;
	int ret;

	memset(active, 0, NFEATURES * sizeof(active[0]));
	info = calloc(1, sizeof(*info) + sizeof(__u32));
	if (!info)
		return -ENOMEM;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	ifr.ifr_data = (void *)info;
	ret = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (ret)
		goto out;
	count = info->sset_mask ? info->data[0] : 0;
	if (!count || count > MAX_FEATURE_STRINGS) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	blocks = (count + 31) / 32;
	names = calloc(1, sizeof(*names) + count * ETH_GSTRING_LEN);
	feats = calloc(1, sizeof(*feats) + blocks * sizeof(feats->features[0]));
	if (!names || !feats) {
		ret = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = count;
	ifr.ifr_data = (void *)names;
	ret = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (ret)
		goto out;
	feats->cmd = ETHTOOL_GFEATURES;
	feats->size = blocks;
	ifr.ifr_data = (void *)feats;
	ret = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (ret)
		goto out;
	for (i = 0; i < count && i < names->len; i++) {
		const char *name = (const char *)names->data + i * ETH_GSTRING_LEN;

		for (k = 0; k < NFEATURES; k++)
			if (!strncmp(name, feature_names[k], ETH_GSTRING_LEN))
				active[k] = feats->features[i / 32].active & (1u << (i % 32));
	}
out:
	free(info);
	free(names);
	free(feats);
	return ret;
}

static void addr_of_sockaddr(const struct sockaddr *sa, __be32 out[4])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[2] = htonl(0xffff);
		out[3] = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

int doctor_addr_where(const __be32 addr[4], char *other, size_t otherlen)
{
	struct ifaddrs *ifs, *i;
	__be32 a[4];
	int where = 0;

	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		addr_of_sockaddr(i->ifa_addr, a);
		if (memcmp(a, addr, 16))
			continue;
		if (i->ifa_flags & IFF_LOOPBACK) {
			where = 1;
			break;
		}
		where = 2;
		snprintf(other, otherlen, "%s", i->ifa_name);
	}
	freeifaddrs(ifs);
	return where;
}

/* One /proc/net/{tcp,udp}[6] file: a socket of state st bound to addr (or any) and port. */
static int scan_sockets(const char *path, bool v6, const __be32 addr[4], __u16 port,
			unsigned int st, char *bound, size_t len)
{
	static const __be32 any[4];
	char line[512], hex[33];
	unsigned int p, state, lines = 0;
	__be32 a[4];
	int found = 0, i;
	FILE *f = fopen(path, "r");

	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no IPv6: no such file */
	if (!fgets(line, sizeof(line), f)) /* the header */
		goto out;
	/* bounded: a host has at most a few million sockets */
	while (!found && lines++ < 10000000 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", hex, &p, &state) != 3 ||
		    p != port || state != st || strlen(hex) != (v6 ? 32 : 8))
			continue;
		memset(a, 0, sizeof(a));
		if (!v6)
			a[2] = htonl(0xffff);
		/* each 32-bit word as the kernel printed it: the bytes in memory order */
		for (i = 0; i < (v6 ? 4 : 1); i++) {
			char word[9];

			memcpy(word, hex + 8 * i, 8);
			word[8] = '\0';
			a[v6 ? i : 3] = (__be32)strtoul(word, NULL, 16);
		}
		if (!memcmp(a, addr, 16) || (!v6 && !a[3]) || (v6 && !memcmp(a, any, 16))) {
			found = 1;
			if (v6 && !memcmp(a, any, 16))
				snprintf(bound, len, "[::]:%u", port);
			else if (!v6 && !a[3])
				snprintf(bound, len, "0.0.0.0:%u", port);
			else {
				char text[XLB_ADDR_STR_MAX];

				xlb_format_addr(a, text, sizeof(text));
				snprintf(bound, len, v6 ? "[%s]:%u" : "%s:%u", text, port);
			}
		}
	}
out:
	fclose(f);
	return found;
}

int doctor_listener(const __be32 addr[4], __u16 port, __u8 proto, char *bound, size_t len)
{
	const char *base = proto == IPPROTO_TCP ? "/proc/net/tcp" : "/proc/net/udp";
	unsigned int st = proto == IPPROTO_TCP ? 0x0A : 0x07; /* TCP_LISTEN; TCP_CLOSE: a bound UDP socket */
	char path[64];
	int ret = 0;

	if (xlb_addr_is_v4(addr))
		ret = scan_sockets(base, false, addr, port, st, bound, len);
	if (!ret) {
		snprintf(path, sizeof(path), "%s6", base);
		ret = scan_sockets(path, true, addr, port, st, bound, len);
	}
	return ret;
}

void doctor_default_route_if(char *ifname, size_t len)
{
	char line[256], name[IFNAMSIZ];
	unsigned int dst, mask, lines = 0;
	FILE *f = fopen("/proc/net/route", "r");

	ifname[0] = '\0';
	if (!f)
		return;
	while (lines++ < 100000 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %x %*x %*x %*d %*d %*d %x", name, &dst, &mask) == 3 &&
		    !dst && !mask) {
			snprintf(ifname, len, "%s", name);
			break;
		}
	fclose(f);
}

static bool ipv4_iface(const struct ifaddrs *i)
{
	return i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
	       !(i->ifa_flags & IFF_LOOPBACK) && (i->ifa_flags & IFF_UP);
}

int doctor_ipv4_ifaces(char (*names)[16], int max)
{
	struct ifaddrs *ifs, *i, *j;
	int n = 0, k;

	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		if (!ipv4_iface(i))
			continue;
		if (n < max) {
			for (k = 0; k < n && strcmp(names[k], i->ifa_name); k++)
				;
			if (k == n)
				snprintf(names[n++], 16, "%s", i->ifa_name);
			continue;
		}
		/* past names: counted unless an earlier address of it was */
		for (j = ifs; j != i && (!ipv4_iface(j) || strcmp(j->ifa_name, i->ifa_name));
		     j = j->ifa_next)
			;
		n += j == i;
	}
	freeifaddrs(ifs);
	return n;
}
