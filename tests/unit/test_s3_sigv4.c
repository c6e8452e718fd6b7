/* Unit tests for iceberg/s3: SigV4 against AWS's published vectors (the
 * Signature Version 4 test suite, credentials AKIDEXAMPLE, service
 * "service"; and the S3 API reference's examples, AKIAIOSFODNN7EXAMPLE),
 * option and location parsing, and giving up on an unreachable endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iceberg/s3.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The test suite's request: example.amazonaws.com, 20150830T123600Z. */
static tw_s3_sigv4 suite_sign(const char *method, const char *path, const tw_s3_kv *query,
                              size_t nquery, const tw_s3_kv *extra, size_t nextra,
                              const char *payload_hex)
{
    tw_s3_kv headers[8] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    size_t nh = 2;
    for (size_t i = 0; i < nextra; i++)
        headers[nh++] = extra[i];
    tw_s3_sigv4_input in = {
        .method = method,
        .path = path,
        .query = query,
        .nquery = nquery,
        .headers = headers,
        .nheaders = nh,
        .payload_sha256_hex = payload_hex,
        .access_key = "AKIDEXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1",
        .service = "service",
        .amz_date = "20150830T123600Z",
    };
    tw_s3_sigv4 sig;
    tw_s3_sigv4_sign(&in, &sig);
    return sig;
}

#define SUITE_AUTHZ(headers, sig)                                                                 \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "          \
    "SignedHeaders=" headers ", Signature=" sig

static void test_get_vanilla(void **state)
{
    (void)state;
    tw_s3_sigv4 s = suite_sign("GET", "/", NULL, 0, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\n"
                                             "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA256);
    assert_string_equal(s.string_to_sign,
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
    tw_s3_sigv4_free(&s);
}

/* The query is sorted by name, then by value, byte-wise. */
static void test_get_vanilla_query_order_key(void **state)
{
    (void)state;
    tw_s3_kv q[] = {{"Param1", "value2"}, {"Param1", "Value1"}};
    tw_s3_sigv4 s = suite_sign("GET", "/", q, 2, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.canonical_query, "Param1=Value1&Param1=value2");
    assert_string_equal(s.string_to_sign,
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                        "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"));
    tw_s3_sigv4_free(&s);
}

static void test_get_space(void **state)
{
    (void)state;
    tw_s3_sigv4 s = suite_sign("GET", "/example space/", NULL, 0, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.encoded_path, "/example%20space/");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"));
    tw_s3_sigv4_free(&s);
}

static void test_get_utf8(void **state)
{
    (void)state;
    tw_s3_sigv4 s = suite_sign("GET", "/\xe1\x88\xb4", NULL, 0, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.encoded_path, "/%E1%88%B4");
    assert_string_equal(s.string_to_sign,
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                        "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
    tw_s3_sigv4_free(&s);
}

static void test_get_vanilla_utf8_query(void **state)
{
    (void)state;
    tw_s3_kv q[] = {{"\xe1\x88\xb4", "bar"}};
    tw_s3_sigv4 s = suite_sign("GET", "/", q, 1, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.canonical_query, "%E1%88%B4=bar");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"));
    tw_s3_sigv4_free(&s);
}

static void test_get_vanilla_query_unreserved(void **state)
{
    (void)state;
    const char *u = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    tw_s3_kv q[] = {{u, u}};
    tw_s3_sigv4 s = suite_sign("GET", "/", q, 1, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date",
                                    "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"));
    tw_s3_sigv4_free(&s);
}

/* A body is hashed into the last line; content-type is signed. */
static void test_post_x_www_form_urlencoded(void **state)
{
    (void)state;
    char hex[65];
    tw_s3_sha256_hex("Param1=value1", 13, hex);
    assert_string_equal(hex, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    tw_s3_kv ct[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
    tw_s3_sigv4 s = suite_sign("POST", "/", NULL, 0, ct, 1, hex);
    assert_string_equal(s.canonical_request,
                        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
                        "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "content-type;host;x-amz-date\n"
                        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("content-type;host;x-amz-date",
                                    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
    tw_s3_sigv4_free(&s);
}

static void test_get_vanilla_with_session_token(void **state)
{
    (void)state;
    tw_s3_kv tok[] = {{"X-Amz-Security-Token",
                       "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}};
    tw_s3_sigv4 s = suite_sign("GET", "/", NULL, 0, tok, 1, EMPTY_SHA256);
    assert_string_equal(s.authorization,
                        SUITE_AUTHZ("host;x-amz-date;x-amz-security-token",
                                    "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"));
    tw_s3_sigv4_free(&s);
}

/* The S3 API reference's examples: examplebucket, 20130524T000000Z. */
static tw_s3_sigv4 s3_doc_sign(const char *method, const char *path, const tw_s3_kv *query,
                               size_t nquery, const tw_s3_kv *extra, size_t nextra,
                               const char *payload_hex)
{
    tw_s3_kv headers[8] = {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", "20130524T000000Z"},
                           {"x-amz-content-sha256", payload_hex}};
    size_t nh = 3;
    for (size_t i = 0; i < nextra; i++)
        headers[nh++] = extra[i];
    tw_s3_sigv4_input in = {
        .method = method,
        .path = path,
        .query = query,
        .nquery = nquery,
        .headers = headers,
        .nheaders = nh,
        .payload_sha256_hex = payload_hex,
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .region = "us-east-1",
        .service = "s3",
        .amz_date = "20130524T000000Z",
    };
    tw_s3_sigv4 sig;
    tw_s3_sigv4_sign(&in, &sig);
    return sig;
}

static const char *signature_of(const tw_s3_sigv4 *s)
{
    const char *p = strstr(s->authorization, "Signature=");
    assert_non_null(p);
    return p + 10;
}

static void test_s3_get_object_range(void **state)
{
    (void)state;
    tw_s3_kv range[] = {{"Range", "bytes=0-9"}};
    tw_s3_sigv4 s = s3_doc_sign("GET", "/test.txt", NULL, 0, range, 1, EMPTY_SHA256);
    assert_string_equal(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    assert_string_equal(signature_of(&s),
                        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    tw_s3_sigv4_free(&s);
}

/* '$' in a key is encoded in the path; the payload hash is signed. */
static void test_s3_put_object(void **state)
{
    (void)state;
    char hex[65];
    tw_s3_sha256_hex("Welcome to Amazon S3.", 21, hex);
    assert_string_equal(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    tw_s3_kv extra[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    tw_s3_sigv4 s = s3_doc_sign("PUT", "/test$file.text", NULL, 0, extra, 2, hex);
    assert_string_equal(s.encoded_path, "/test%24file.text");
    assert_string_equal(s.string_to_sign,
                        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    assert_string_equal(signature_of(&s),
                        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    tw_s3_sigv4_free(&s);
}

static void test_s3_list_objects_query(void **state)
{
    (void)state;
    tw_s3_kv q[] = {{"prefix", "J"}, {"max-keys", "2"}};
    tw_s3_sigv4 s = s3_doc_sign("GET", "/", q, 2, NULL, 0, EMPTY_SHA256);
    assert_string_equal(s.canonical_query, "max-keys=2&prefix=J");
    assert_string_equal(signature_of(&s),
                        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    tw_s3_sigv4_free(&s);
}

/* Keys keep their '/', encode everything else outside the unreserved set;
 * query values encode '/' too. */
static void test_key_encoding(void **state)
{
    (void)state;
    tw_s3_kv q[] = {{"uploadId", "a/b+c d="}, {"uploads", ""}};
    tw_s3_sigv4 s = suite_sign("PUT", "/bucket/dir/k\xc3\xa9y with space+=.parquet", q, 2, NULL, 0,
                               EMPTY_SHA256);
    assert_string_equal(s.encoded_path, "/bucket/dir/k%C3%A9y%20with%20space%2B%3D.parquet");
    assert_string_equal(s.canonical_query, "uploadId=a%2Fb%2Bc%20d%3D&uploads=");
    tw_s3_sigv4_free(&s);
}

static const char *lookup(void *ctx, const char *key)
{
    const char *const *kv = ctx;
    for (; kv[0]; kv += 2)
        if (!strcmp(kv[0], key))
            return kv[1];
    return NULL;
}

static void test_config_from_seed_options(void **state)
{
    (void)state;
    const char *opts[] = {"s3.endpoint", "http://localhost:9000", "s3.access.key", "minioadmin",
                          "s3.secret.key", "minioadmin", "s3.region", "us-east-1",
                          "s3.path.style.access", "true", NULL};
    tw_s3_config cfg;
    tw_err err;
    assert_true(tw_s3_config_from_options(&cfg, lookup, (void *)opts, &err));
    assert_string_equal(cfg.endpoint, "http://localhost:9000");
    assert_string_equal(cfg.access_key, "minioadmin");
    assert_string_equal(cfg.secret_key, "minioadmin");
    assert_string_equal(cfg.region, "us-east-1");
    assert_true(cfg.path_style);
    const char *bad[] = {"s3.path.style.access", "yes", NULL};
    assert_false(tw_s3_config_from_options(&cfg, lookup, (void *)bad, &err));
    assert_non_null(strstr(err.msg, "s3.path.style.access"));
}

static void test_parse_location(void **state)
{
    (void)state;
    char *bucket, *key;
    tw_err err;
    assert_true(tw_s3_parse_location("s3://wh/a b/c.json", &bucket, &key, &err));
    assert_string_equal(bucket, "wh");
    assert_string_equal(key, "a b/c.json");
    free(bucket);
    free(key);
    assert_true(tw_s3_parse_location("s3a://b/k", &bucket, &key, &err));
    free(bucket);
    free(key);
    assert_false(tw_s3_parse_location("s3://bucket-only", &bucket, &key, &err));
    assert_false(tw_s3_parse_location("/local/path", &bucket, &key, &err));
}

/* Connection refused is transient: retried up to max_attempts, then an
 * error naming endpoint, bucket and key, and never the secret. */
static void test_gives_up_naming_endpoint(void **state)
{
    (void)state;
    tw_s3_config cfg = {.endpoint = "http://127.0.0.1:1", .access_key = "AK",
                        .secret_key = "very-secret-value", .path_style = true,
                        .max_attempts = 3, .base_backoff_ms = 1, .quiet = true};
    tw_err err;
    tw_s3_client *c = tw_s3_client_new(&cfg, &err);
    assert_non_null(c);
    assert_false(tw_s3_put_object(c, "bkt", "some key", "x", 1, &err));
    assert_non_null(strstr(err.msg, "http://127.0.0.1:1"));
    assert_non_null(strstr(err.msg, "bucket 'bkt'"));
    assert_non_null(strstr(err.msg, "'some key'"));
    assert_non_null(strstr(err.msg, "3 attempts"));
    assert_null(strstr(err.msg, "very-secret-value"));
    tw_s3_stats st = tw_s3_client_stats(c);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.retries, 2);
    tw_s3_client_free(c);
}

static void test_needs_credentials(void **state)
{
    (void)state;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    tw_s3_config cfg = {.endpoint = "http://127.0.0.1:1"};
    tw_err err;
    assert_null(tw_s3_client_new(&cfg, &err));
    assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
    setenv("AWS_ACCESS_KEY_ID", "env-key", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    tw_s3_client *c = tw_s3_client_new(&cfg, &err);
    assert_non_null(c);
    tw_s3_client_free(c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_vanilla),
        cmocka_unit_test(test_get_vanilla_query_order_key),
        cmocka_unit_test(test_get_space),
        cmocka_unit_test(test_get_utf8),
        cmocka_unit_test(test_get_vanilla_utf8_query),
        cmocka_unit_test(test_get_vanilla_query_unreserved),
        cmocka_unit_test(test_post_x_www_form_urlencoded),
        cmocka_unit_test(test_get_vanilla_with_session_token),
        cmocka_unit_test(test_s3_get_object_range),
        cmocka_unit_test(test_s3_put_object),
        cmocka_unit_test(test_s3_list_objects_query),
        cmocka_unit_test(test_key_encoding),
        cmocka_unit_test(test_config_from_seed_options),
        cmocka_unit_test(test_parse_location),
        cmocka_unit_test(test_gives_up_naming_endpoint),
        cmocka_unit_test(test_needs_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
