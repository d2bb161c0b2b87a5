package discover

import (
	"path"
	"strings"
)

// DefaultSkipDirs are folder names a scan does not enter unless told
// otherwise: dependencies, virtual environments and build output. Git's
// own folder (.git) is never entered; history is read through git.
var DefaultSkipDirs = []string{"node_modules", "vendor", ".venv", "venv", "dist", "build", "__pycache__"}

// IsEnvFile reports whether a file name (or slash-separated path) names
// a dotenv file by its name: .env, .env.* or *.env.
func IsEnvFile(p string) bool {
	base := path.Base(p)
	return base == ".env" || strings.HasPrefix(base, ".env.") || (strings.HasSuffix(base, ".env") && len(base) > len(".env"))
}

// templateSuffixes mark .env files that document settings rather than
// hold them.
var templateSuffixes = []string{".example", ".sample", ".template", ".dist", ".defaults", ".tmpl", ".tpl"}

// IsEnvTemplate reports whether an .env file is a template or example
// (.env.example, .env.sample, .env.template, example.env, ...), whose
// entries are normally placeholders.
func IsEnvTemplate(p string) bool {
	base := strings.ToLower(path.Base(p))
	for _, s := range templateSuffixes {
		if strings.HasSuffix(base, s) || strings.HasPrefix(base, s[1:]+".") || strings.Contains(base, s+".") {
			return true
		}
	}
	return false
}

// IsComposeFile reports whether a file is a Docker Compose file, whose
// env_file: entries name more .env files.
func IsComposeFile(p string) bool {
	base := strings.ToLower(path.Base(p))
	ext := path.Ext(base)
	if ext != ".yml" && ext != ".yaml" {
		return false
	}
	stem := strings.TrimSuffix(base, ext)
	for _, prefix := range []string{"docker-compose", "compose"} {
		if stem == prefix || strings.HasPrefix(stem, prefix+".") || strings.HasPrefix(stem, prefix+"-") {
			return true
		}
	}
	return false
}
