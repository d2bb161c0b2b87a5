package detect

import (
	"strings"

	"github.com/env2vault/env2vault/secret"
)

// knownPrefixes are provider key prefixes that are safe to show: they are
// the same in every key of their kind. Longer prefixes come first.
var knownPrefixes = []string{
	"sk-ant-admin01-", "sk-ant-api03-", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-",
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_",
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "gldt-", "glrt-",
	"AKIA", "ASIA", "ABIA", "ACCA", "ABSK",
	"xoxb-", "xoxp-", "xoxa-", "xoxe-", "xapp-", "https://hooks.slack.com/",
	"SG.", "AIza", "hf_", "api_org_", "npm_", "pypi-", "dop_v1_", "doo_v1_", "shpat_", "shpss_", "shpca_",
	"glc_", "glsa_", "sntrys_", "lin_api_", "PMAK-", "pul-", "dapi", "AGE-SECRET-KEY-", "xai-", "gsk_",
	"key-", "tfp_", "rubygems_", "atlasv1.", "hvs.", "hvb.", "-----BEGIN ",
	"eyJ",
}

// minTail is how many characters must follow a prefix for it to be shown,
// so that a short value is never mostly revealed.
const minTail = 12

// Hint returns at most a known provider prefix of v followed by "…"
// ("sk_live_…", "ghp_…"), never any of the random part. service is
// accepted for callers that know it; the prefix table decides.
func Hint(service string, v secret.Value) string {
	s := v.Reveal()
	for _, p := range knownPrefixes {
		if len(p) <= 2 {
			continue // too generic to name without a service
		}
		if strings.HasPrefix(s, p) && len(s) >= len(p)+minTail {
			return p + "…"
		}
	}
	_ = service
	return ""
}

// ruleServices maps gitleaks rule-id prefixes to service names where the
// first word of the id is not the service.
var ruleServices = map[string]string{
	"gcp": "google", "new": "newrelic", "defined": "definednetworking", "octopus": "octopus",
	"private": "", "generic": "", "jwt": "", "curl": "", "pkcs12": "", "kubernetes": "",
	"hashicorp": "hashicorp", "vault": "vault", "age": "age", "azure": "azure", "cisco": "meraki",
}

// ServiceForRule names the provider a gitleaks rule id belongs to
// ("stripe-access-token" -> "stripe"); "" for rules about no provider.
func ServiceForRule(rule string) string {
	switch rule {
	case RuleURLPassword, RuleKeyName, RuleEntropy, RuleK8sSecret, "":
		return ""
	}
	first, _, _ := strings.Cut(rule, "-")
	if s, ok := ruleServices[first]; ok {
		return s
	}
	return first
}
