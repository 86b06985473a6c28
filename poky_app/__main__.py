from poky_app.cli import main

main()
