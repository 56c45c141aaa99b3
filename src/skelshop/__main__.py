from skelshop.cli.main import main

main()
