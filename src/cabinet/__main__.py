from cabinet.cli import main

main()
