"""``python -m oceansr.predict key=value ...`` (see :mod:`oceansr.predict.entry`)."""

from oceansr.predict.entry import main

if __name__ == "__main__":
    main()
