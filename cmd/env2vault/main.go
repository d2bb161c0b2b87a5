// Command env2vault moves an organisation's secrets out of .env files and
// hardcoded literals into a real vault. See README.md.
package main

import (
	"os"

	"github.com/env2vault/env2vault/internal/command/root"
)

func main() {
	os.Exit(root.Main())
}
