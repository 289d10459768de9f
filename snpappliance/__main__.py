from snpappliance.cli import main

main()
