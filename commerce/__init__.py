"""The commercial layer of authorized operation: products and services registered from
releases, their categories and prices (free for public governance and welfare, approved for
commercial use), the operator's sales and costs, and the distribution of sales income to the
platform and the providers of the source datasets (Measures Art. 27, 29, 31, 35-37)."""
