from roadwatch.cli import main

main()
