from vlmbench.cli.app import main

main()
