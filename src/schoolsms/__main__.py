from schoolsms.cli import main

main()
