// Command coldstart measures the cold start of apps in constrained containers.
package main

import (
	"os"

	"github.com/coldstart/coldstart/harness/cli"
)

func main() { os.Exit(cli.Main()) }
