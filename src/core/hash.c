/*
 * Hashing: SHA-256 through OpenSSL's EVP interface (the only place that
 * includes OpenSSL), hex helpers, and MurmurHash3 x64_128 for in-memory
 * hash tables.
 */
#include "core.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sha256_ctx {
	EVP_MD_CTX *md;
};

static void sha_fail(const char *what)
{
	fprintf(stderr, "elava: OpenSSL SHA-256 %s failed\n", what);
	abort();
}

struct sha256_ctx *sha256_new(void)
{
	struct sha256_ctx *c = xmalloc(sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		sha_fail("init");
	return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t n)
{
	if (EVP_DigestUpdate(c->md, data, n) != 1)
		sha_fail("update");
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(c->md, out, &len) != 1 || len != SHA256_LEN)
		sha_fail("final");
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		sha_fail("init");
}

void sha256_free(struct sha256_ctx **cp)
{
	if (!cp || !*cp)
		return;
	EVP_MD_CTX_free((*cp)->md);
	xfree(*cp);
	*cp = NULL;
}

void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
		sha_fail("digest");
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[in[i] >> 4];
		out[2 * i + 1] = hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
	if (hexlen != 2 * n)
		return ELAVA_E_PARSE;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]);
		int lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ELAVA_E_PARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static inline uint64_t load64le(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

void hash128(const void *data, size_t len, uint64_t seed, uint64_t out[2])
{
	const uint8_t *p = data;
	const size_t nblocks = len / 16;
	const uint64_t c1 = 0x87c37b91114253d5ULL;
	const uint64_t c2 = 0x4cf5ad432745937fULL;
	uint64_t h1 = seed, h2 = seed;

	for (size_t i = 0; i < nblocks; i++) {
		uint64_t k1 = load64le(p + i * 16);
		uint64_t k2 = load64le(p + i * 16 + 8);

		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = rotl64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = rotl64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}

	const uint8_t *tail = p + nblocks * 16;
	uint64_t k1 = 0, k2 = 0;

	switch (len & 15) {
	case 15: k2 ^= (uint64_t)tail[14] << 48; /* fall through */
	case 14: k2 ^= (uint64_t)tail[13] << 40; /* fall through */
	case 13: k2 ^= (uint64_t)tail[12] << 32; /* fall through */
	case 12: k2 ^= (uint64_t)tail[11] << 24; /* fall through */
	case 11: k2 ^= (uint64_t)tail[10] << 16; /* fall through */
	case 10: k2 ^= (uint64_t)tail[9] << 8;	 /* fall through */
	case 9:
		k2 ^= (uint64_t)tail[8];
		k2 *= c2;
		k2 = rotl64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		/* fall through */
	case 8: k1 ^= (uint64_t)tail[7] << 56; /* fall through */
	case 7: k1 ^= (uint64_t)tail[6] << 48; /* fall through */
	case 6: k1 ^= (uint64_t)tail[5] << 40; /* fall through */
	case 5: k1 ^= (uint64_t)tail[4] << 32; /* fall through */
	case 4: k1 ^= (uint64_t)tail[3] << 24; /* fall through */
	case 3: k1 ^= (uint64_t)tail[2] << 16; /* fall through */
	case 2: k1 ^= (uint64_t)tail[1] << 8;  /* fall through */
	case 1:
		k1 ^= (uint64_t)tail[0];
		k1 *= c1;
		k1 = rotl64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		break;
	default: break;
	}

	h1 ^= (uint64_t)len;
	h2 ^= (uint64_t)len;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	h1 += h2;
	h2 += h1;
	out[0] = h1;
	out[1] = h2;
}

void hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
		 uint8_t out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;

	if (!HMAC(EVP_sha256(), key, (int)klen, data, n, out, &len))
		abort(); /* only on allocation failure inside OpenSSL */
}
